"""Finding complete deliveries and checking their files against `_MANIFEST.json` (no DuckDB here)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipelines.feeds import Feed
from pipelines.lib.ingest.models import DeliveryCandidate, DeliveryRejected

MANIFEST_NAME = "_MANIFEST.json"
DATE_FOLDER = re.compile(r"^\d{8}$")
SHA256_HEX = re.compile(r"^[0-9a-fA-F]{64}$")
EXTENSION_FORMAT = {".csv": "csv", ".jsonl": "jsonl", ".xlsx": "xlsx", ".parquet": "parquet"}
HASH_BLOCK = 8 << 20


@dataclass(frozen=True)
class ManifestFile:
    """One data file as listed in the manifest."""

    name: str
    rows: int
    sha256: str


@dataclass(frozen=True)
class Manifest:
    """A parsed `_MANIFEST.json`."""

    feed: str
    delivery_date: str
    kind: str | None
    files: tuple[ManifestFile, ...]


def folder_date(name: str) -> dt.date | None:
    """The delivery date of a `YYYYMMDD` folder name, or None when it is not one."""
    if not DATE_FOLDER.match(name):
        return None
    try:
        return dt.datetime.strptime(name, "%Y%m%d").date()
    except ValueError:
        return None


def parse_manifest(raw: bytes) -> Manifest:
    """Parse manifest bytes; a malformed manifest raises DeliveryRejected saying what is wrong."""
    try:
        data: Any = json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DeliveryRejected(f"{MANIFEST_NAME} is not valid UTF-8 JSON ({exc.__class__.__name__})") from None
    if not isinstance(data, dict):
        raise DeliveryRejected(f"{MANIFEST_NAME} must be a JSON object")
    missing = [k for k in ("feed", "delivery_date", "files") if k not in data]
    if missing:
        raise DeliveryRejected(f"{MANIFEST_NAME} lacks the key(s) {', '.join(missing)}")
    files = data["files"]
    if not isinstance(files, list) or not files:
        raise DeliveryRejected(f"{MANIFEST_NAME}: `files` must be a non-empty list")
    parsed: list[ManifestFile] = []
    for i, entry in enumerate(files, start=1):
        if not isinstance(entry, dict):
            raise DeliveryRejected(f"{MANIFEST_NAME}: files[{i}] is not an object")
        name, rows, sha = entry.get("name"), entry.get("rows"), entry.get("sha256")
        if not isinstance(name, str) or not name or "/" in name or "\\" in name or name.startswith("."):
            raise DeliveryRejected(f"{MANIFEST_NAME}: files[{i}] has no valid file name")
        if not isinstance(rows, int) or isinstance(rows, bool) or rows < 0:
            raise DeliveryRejected(f"{MANIFEST_NAME}: file {name}: `rows` must be a whole number ≥ 0")
        if not isinstance(sha, str) or not SHA256_HEX.match(sha):
            raise DeliveryRejected(f"{MANIFEST_NAME}: file {name}: `sha256` must be 64 hex digits")
        parsed.append(ManifestFile(name, rows, sha.lower()))
    names = [f.name for f in parsed]
    dups = sorted({n for n in names if names.count(n) > 1})
    if dups:
        raise DeliveryRejected(f"{MANIFEST_NAME} lists file(s) twice: {', '.join(dups)}")
    kind = data.get("kind")
    return Manifest(str(data["feed"]), str(data["delivery_date"]), None if kind is None else str(kind),
                    tuple(parsed))


def content_hash(feed: str, delivery_date: dt.date, manifest_bytes: bytes) -> tuple[str, str | None]:
    """sha256 over feed, date and the manifest's sorted (name, sha256) pairs, plus a manifest problem.

    A manifest that cannot be parsed is hashed by its bytes, so a corrected manifest is a new delivery.
    """
    try:
        manifest = parse_manifest(manifest_bytes)
        pairs = sorted([f.name, f.sha256] for f in manifest.files)
        problem = None
    except DeliveryRejected as exc:
        pairs = [["<unparseable manifest>", hashlib.sha256(manifest_bytes).hexdigest()]]
        problem = str(exc)
    canonical = json.dumps(
        {"feed": feed, "delivery_date": delivery_date.isoformat(), "files": pairs},
        ensure_ascii=False, separators=(",", ":"), sort_keys=True,
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest(), problem


def complete_deliveries(landing_dir: Path, feed: Feed) -> list[DeliveryCandidate]:
    """Every delivery folder of `feed` whose manifest exists, oldest date first.

    Reads only the manifests (cheap enough for a sensor); folders whose name is not a valid
    `YYYYMMDD` date and folders without `_MANIFEST.json` are not deliveries (yet).
    """
    root = Path(landing_dir) / feed.name
    if not root.is_dir():
        return []
    found: list[DeliveryCandidate] = []
    for folder in root.iterdir():
        date = folder_date(folder.name)
        manifest_path = folder / MANIFEST_NAME
        if date is None or not folder.is_dir():
            continue
        try:
            manifest_bytes = manifest_path.read_bytes()
        except FileNotFoundError:
            continue
        digest, problem = content_hash(feed.name, date, manifest_bytes)
        found.append(DeliveryCandidate(feed.name, date, folder, digest, problem))
    return sorted(found, key=lambda c: c.delivery_date)


def arriving_deliveries(landing_dir: Path, feed: Feed) -> list[Path]:
    """Dated delivery folders of `feed` that have no manifest yet: still arriving, so not read by any run."""
    root = Path(landing_dir) / feed.name
    if not root.is_dir():
        return []
    return sorted(folder for folder in root.iterdir()
                  if folder.is_dir() and folder_date(folder.name) is not None
                  and not (folder / MANIFEST_NAME).exists())


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file, read in blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(HASH_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def data_files_on_disk(folder: Path) -> list[str]:
    """Names of the delivered files in a folder: everything but the manifest and hidden files."""
    return sorted(p.name for p in folder.iterdir() if p.is_file() and p.name != MANIFEST_NAME
                  and not p.name.startswith("."))


def verify_delivery(feed: Feed, candidate: DeliveryCandidate) -> Manifest:
    """Check manifest against folder, feed, formats and checksums; row counts are checked after reading.

    Raises DeliveryRejected with a message naming the file and the difference.
    """
    if candidate.manifest_problem:
        raise DeliveryRejected(candidate.manifest_problem)
    manifest = parse_manifest((candidate.path / MANIFEST_NAME).read_bytes())
    if manifest.feed != feed.name:
        raise DeliveryRejected(f"{MANIFEST_NAME} says feed {manifest.feed!r}, the folder is {feed.name!r}")
    if manifest.delivery_date != candidate.delivery_date.isoformat():
        raise DeliveryRejected(
            f"{MANIFEST_NAME} says delivery_date {manifest.delivery_date!r}, the folder is "
            f"{candidate.delivery_date:%Y%m%d} ({candidate.delivery_date.isoformat()})"
        )
    if manifest.kind is not None and manifest.kind != feed.kind:
        raise DeliveryRejected(f"{MANIFEST_NAME} says kind {manifest.kind!r}, feed {feed.name} is {feed.kind!r}")
    on_disk = set(data_files_on_disk(candidate.path))
    listed = [f.name for f in manifest.files]
    problems = [f"file {n} is listed in {MANIFEST_NAME} but missing" for n in listed if n not in on_disk]
    problems += [f"file {n} is in the delivery folder but not listed in {MANIFEST_NAME}"
                 for n in sorted(on_disk - set(listed))]
    for name in listed:
        fmt = EXTENSION_FORMAT.get(Path(name).suffix.lower())
        if fmt not in feed.formats:
            problems.append(f"file {name}: format {Path(name).suffix or '(none)'} is not one feed "
                            f"{feed.name} delivers ({', '.join(feed.formats)})")
    if problems:
        raise DeliveryRejected("; ".join(problems))
    for entry in manifest.files:
        actual = sha256_file(candidate.path / entry.name)
        if actual != entry.sha256:
            problems.append(f"file {entry.name}: sha256 is {actual}, {MANIFEST_NAME} says {entry.sha256}")
    if problems:
        raise DeliveryRejected("; ".join(problems))
    return manifest


def file_format(name: str) -> str:
    """The format of a data file from its extension (checked against the feed by verify_delivery)."""
    return EXTENSION_FORMAT[Path(name).suffix.lower()]


def newest_mtime(folder: Path) -> float:
    """Latest modification time of the folder and its entries (to retry a rejected delivery once fixed)."""
    times = [folder.stat().st_mtime]
    times += [p.stat().st_mtime for p in folder.iterdir()]
    return max(times)
