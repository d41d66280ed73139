"""The production set-up of docs/operations.md, read from the guide for tests: its dagster.yaml and environment
file, and a private, throwaway PostgreSQL server to run that dagster.yaml on.

It runs the machine's own PostgreSQL binaries (Debian's `postgresql` package: /usr/lib/postgresql/<n>/bin) on
127.0.0.1 and a free port, with its data in a new temporary folder, and is stopped and deleted afterwards.
PostgreSQL refuses to run as root, so under root (CI) every command runs as the `postgres` system user.
Without the binaries the tests that need it are skipped, unless POPBASE_TEST_POSTGRES=required (set by .ci/run),
which makes that a failure.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from pipelines.feeds import PROJECT_ROOT

OPERATIONS_DOC = PROJECT_ROOT / "docs" / "operations.md"
PRODUCTION_YAML_HEADING = "`/srv/popbase/dagster_home/dagster.yaml`:"
PRODUCTION_HOME = "/srv/popbase/dagster_home"
ENVIRONMENT_FILE_HEADING = "`/etc/popbase/popbase.env`"
USER = DATABASE = "dagster"


@dataclass(frozen=True)
class PostgresServer:
    """Where the test server listens; its superuser is `dagster`, owner of the database `dagster`."""

    host: str
    port: int


def _bin_dir() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if found:
        return found[-1].parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _as_server_user(command: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


@contextlib.contextmanager
def postgres_server() -> Iterator[PostgresServer]:
    """Start a server for the duration of the block (skips or fails the test when PostgreSQL is missing)."""
    bin_dir = _bin_dir()
    if bin_dir is None:
        message = "PostgreSQL binaries not found (Debian: apt-get install postgresql)"
        if os.environ.get("POPBASE_TEST_POSTGRES") == "required":
            pytest.fail(message)
        pytest.skip(message)
    folder = Path(tempfile.mkdtemp(prefix="popbase-pg-"))  # not under pytest's 0700 tmp: the server user reads it
    if os.geteuid() == 0:
        account = pwd.getpwnam("postgres")
        os.chown(folder, account.pw_uid, account.pw_gid)
    data, port = folder / "data", _free_port()
    try:
        subprocess.run(_as_server_user([str(bin_dir / "initdb"), "-D", str(data), "-U", USER, "-A", "trust",
                                        "-E", "UTF8", "--no-instructions"]),
                       check=True, capture_output=True)
        options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        subprocess.run(_as_server_user([str(bin_dir / "pg_ctl"), "-D", str(data), "-o", options, "-l",
                                        str(folder / "server.log"), "-w", "start"]),
                       check=True, capture_output=True)
        try:
            subprocess.run([str(bin_dir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", USER, DATABASE],
                           check=True, capture_output=True)
            yield PostgresServer(host="127.0.0.1", port=port)
        finally:
            subprocess.run(_as_server_user([str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"]),
                           check=False, capture_output=True)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _block_after(heading: str, language: str) -> str:
    """The fenced `language` block that starts right after the line of docs/operations.md holding `heading`."""
    doc = OPERATIONS_DOC.read_text(encoding="utf-8")
    block = re.search(re.escape(heading) + r"[^\n]*\n\s*```" + language + r"\n(.*?)```", doc, re.S)
    assert block, f"{OPERATIONS_DOC.name}: no {language} block under {heading}"
    return block.group(1)


def production_environment_file() -> dict[str, str]:
    """The production environment file of docs/operations.md, read as systemd's EnvironmentFile= reads it: a
    line starting with # or ; is a comment, any other is KEY=VALUE with everything after the = as the value."""
    pairs = (line.split("=", 1) for line in _block_after(ENVIRONMENT_FILE_HEADING, "bash").splitlines()
             if line.strip() and not line.lstrip().startswith(("#", ";")))
    return {key.strip(): value.strip() for key, value in pairs}


def production_dagster_yaml(server: PostgresServer, home: Path) -> str:
    """The production dagster.yaml exactly as docs/operations.md gives it, pointed at `server` and `home`."""
    text = _block_after(PRODUCTION_YAML_HEADING, "yaml")
    for old, new in ((PRODUCTION_HOME, str(home)), ("hostname: localhost", f"hostname: {server.host}"),
                     ("port: 5432", f"port: {server.port}")):
        assert old in text, f"the production dagster.yaml no longer contains {old!r}"
        text = text.replace(old, new)
    return text
