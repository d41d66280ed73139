"""Fingerprints of the project's own code: what decides a result besides its input data."""

from __future__ import annotations

import hashlib
from functools import cache

from pipelines.feeds import PROJECT_ROOT


@cache
def files_digest(patterns: tuple[str, ...], versions: str) -> str:
    """sha256 over `versions` (library versions that change results) and every file matching `patterns` (globs
    under the project root), path and bytes, in a stable order. Computed once per process."""
    digest = hashlib.sha256(f"{versions}\n".encode())
    for pattern in patterns:
        for path in sorted(PROJECT_ROOT.glob(pattern)):
            digest.update(f"{path.relative_to(PROJECT_ROOT)}\n".encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()
