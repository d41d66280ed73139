"""File modes that do not depend on the umask: personal data closed to other local accounts, the de-identified
outputs open to them (docs/operations.md, "Who can read what")."""

from __future__ import annotations

from pathlib import Path

PRIVATE_DIR_MODE = 0o750  # the working file, the feedback packets: owner and group only
PUBLIC_DIR_MODE = 0o755  # the report, built from the analyst snapshot
PUBLIC_FILE_MODE = 0o644


def _ensure_dir(path: Path, mode: int) -> Path:
    """Create `path` (missing parents with the default mode) and give it exactly `mode`. A folder that already
    exists keeps the mode it has: the operator's choice (the install steps make /data/work 0750), and never a
    shared folder such as /tmp changed under someone's feet."""
    if not path.exists():
        path.mkdir(parents=True, exist_ok=True)
        path.chmod(mode)
    return path


def private_dir(path: Path) -> Path:
    """Create `path` closed to other accounts (0750) unless it exists: it holds citizen IDs or names."""
    return _ensure_dir(path, PRIVATE_DIR_MODE)


def public_dir(path: Path) -> Path:
    """Create `path` open for reading (0755) unless it exists: it holds no personal data."""
    return _ensure_dir(path, PUBLIC_DIR_MODE)


def make_public(path: Path) -> Path:
    """Make a file without personal data readable by any local account (0644)."""
    path.chmod(PUBLIC_FILE_MODE)
    return path
