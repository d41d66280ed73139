"""Folder modes: exact on a folder the pipeline creates, whatever the umask; an existing folder left alone."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from pipelines.lib.files import private_dir, public_dir


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize("umask", [0o022, 0o027, 0o077])
def test_a_created_folder_gets_exactly_its_mode(tmp_path: Path, umask: int) -> None:
    old = os.umask(umask)
    try:
        assert _mode(private_dir(tmp_path / "a" / "work")) == 0o750
        assert _mode(public_dir(tmp_path / "b" / "report")) == 0o755
    finally:
        os.umask(old)


def test_an_existing_folder_keeps_the_mode_it_has(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o1777)
    private_dir(shared)
    assert _mode(shared) == 0o1777
