"""File modes that do not depend on the umask: personal data closed to other local accounts, the de-identified
outputs open to them (docs/operations.md, "Who can read what")."""

from __future__ import annotations

import os
from pathlib import Path

PRIVATE_DIR_MODE = 0o750  # the working file, the feedback packets: owner and group only
PUBLIC_DIR_MODE = 0o755  # the report, built from the analyst snapshot
PUBLIC_FILE_MODE = 0o644


def _ensure_dir(path: Path, mode: int) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    if path.stat().st_uid == os.geteuid():  # a folder someone else owns keeps the mode they gave it
        path.chmod(mode)
    return path


def private_dir(path: Path) -> Path:
    """Create `path` if needed and close it to other accounts (0750): it holds citizen IDs or names."""
    return _ensure_dir(path, PRIVATE_DIR_MODE)


def public_dir(path: Path) -> Path:
    """Create `path` if needed and open it for reading (0755): it holds no personal data."""
    return _ensure_dir(path, PUBLIC_DIR_MODE)


def make_public(path: Path) -> Path:
    """Make a file without personal data readable by any local account (0644)."""
    path.chmod(PUBLIC_FILE_MODE)
    return path
