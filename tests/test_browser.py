"""The Dagster UI in a real browser: `dagster-webserver` on the project, rendered by headless Chromium.

Runs in the default test command whenever /usr/bin/chromium exists (CI installs it, see .ci/run). The
screenshots of the asset graph are kept in var/screenshots/ (git-ignored) for a human to look at.
"""

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipelines.feeds import PROJECT_ROOT, registry

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOT = PROJECT_ROOT / "var" / "screenshots" / "asset_graph.png"  # global lineage: the layers
SCREENSHOT_RAW = PROJECT_ROOT / "var" / "screenshots" / "asset_graph_raw.png"  # the raw group: one node per feed
STARTUP_SECONDS = 180

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is missing (apt-get install -y chromium)"),
]

ASSET_NODES_QUERY = """
{
  assetNodes {
    assetKey { path }
    groupName
    description
    owners { ... on TeamAssetOwner { team } ... on UserAssetOwner { email } }
  }
  workspaceOrError {
    ... on Workspace {
      locationEntries {
        name
        locationOrLoadError { __typename ... on PythonError { message } }
      }
    }
  }
}
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def graphql(base: str, query: str) -> dict:
    request = urllib.request.Request(
        f"{base}/graphql",
        data=json.dumps({"query": query}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        body = json.loads(response.read())
    assert "errors" not in body, body.get("errors")
    return body["data"]


def wait_for_code_location(base: str, proc: subprocess.Popen, log: Path) -> dict:
    """Poll until the webserver answers and the code location has loaded (or failed to)."""
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"dagster-webserver exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            data = graphql(base, ASSET_NODES_QUERY)
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(1)
            continue
        entries = data["workspaceOrError"].get("locationEntries", [])
        loaded = [e for e in entries if e["locationOrLoadError"] is not None]
        if loaded:
            errors = [e for e in loaded if e["locationOrLoadError"]["__typename"] == "PythonError"]
            assert not errors, f"code location failed to load: {errors[0]['locationOrLoadError']['message']}"
            return data
        time.sleep(1)
    pytest.fail(f"dagster-webserver did not load the code location in {STARTUP_SECONDS}s:\n{log.read_text()[-3000:]}")


@pytest.fixture(scope="module")
def webserver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict]]:
    """`dagster-webserver -w workspace.yaml` on a free port with a temp DAGSTER_HOME and POPBASE_* dirs."""
    root = tmp_path_factory.mktemp("ui")
    home = root / "dagster_home"
    home.mkdir()
    shutil.copy(PROJECT_ROOT / "dagster_home" / "dagster.yaml", home / "dagster.yaml")
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "GX_ANALYTICS_ENABLED": "false",
        "DAGSTER_DISABLE_TELEMETRY": "1",
        "POPBASE_LANDING_DIR": str(root / "landing"),
        "POPBASE_WAREHOUSE_DIR": str(root / "warehouse"),
        "POPBASE_WORK_DIR": str(root / "work"),
    }
    port = free_port()
    log = root / "webserver.log"
    webserver_bin = Path(sys.executable).parent / "dagster-webserver"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [str(webserver_bin), "-w", "workspace.yaml", "-p", str(port), "-h", "127.0.0.1"],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        yield base, wait_for_code_location(base, proc, log)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def chromium(url: str, profile: Path, *extra: str) -> subprocess.CompletedProcess:
    """Headless Chromium on `url` with a private profile; no network beyond the local webserver."""
    return subprocess.run(
        [
            str(CHROMIUM),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            "--virtual-time-budget=30000",
            *extra,
            url,
        ],
        capture_output=True,
        timeout=180,
        check=False,
    )


def test_graphql_serves_every_feed_grouped_and_owned(webserver: tuple[str, dict]) -> None:
    """What the UI will render: raw/<feed> per registry feed, grouped by layer, owned by the department."""
    _, data = webserver
    nodes = {"/".join(n["assetKey"]["path"]): n for n in data["assetNodes"]}
    for feed in registry().feeds.values():
        raw = nodes[f"raw/{feed.name}"]
        assert raw["groupName"] == "raw"
        assert {"team": feed.owner} in raw["owners"]
        assert feed.title_zh in raw["description"]
        assert nodes[f"staging/stg_{feed.name}"]["groupName"] == "staging"
    assert nodes["marts/population_base"]["groupName"] == "marts"
    assert nodes["marts/feed_freshness"]["groupName"] == "marts"
    assert {"raw", "staging", "intermediate", "marts", "published"} <= {n["groupName"] for n in nodes.values()}


def test_asset_graph_renders_in_chromium(webserver: tuple[str, dict], tmp_path: Path) -> None:
    """The catalog lists every raw feed and population_base; the global asset graph is screenshotted."""
    base, _ = webserver
    # a tall window: the catalog is a virtualised table that renders only the rows in view
    dom = chromium(f"{base}/assets?view=flat", tmp_path / "profile-dom", "--dump-dom", "--window-size=1600,8000")
    html = dom.stdout.decode("utf-8", errors="replace")
    assert dom.returncode == 0, dom.stderr.decode(errors="replace")[-2000:]
    missing = [f"raw/{f}" for f in registry().feeds if f"raw/{f}" not in html and f"raw / {f}" not in html]
    assert not missing, f"not in the rendered asset catalog: {missing}\n{html[-2000:]}"
    assert "population_base" in html

    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    pages = {SCREENSHOT: "asset-groups", SCREENSHOT_RAW: "locations/popbase/asset-groups/raw"}
    for path, page in pages.items():
        path.unlink(missing_ok=True)
        shot = chromium(f"{base}/{page}", tmp_path / f"profile-{path.stem}", f"--screenshot={path}",
                        "--window-size=1600,1000")
        assert shot.returncode == 0, shot.stderr.decode(errors="replace")[-2000:]
        assert path.exists() and path.stat().st_size > 20_000, f"no screenshot of /{page}"
