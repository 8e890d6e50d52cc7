"""Faults of the file system: the mode of the files we write.

Each test is one row of the table in docs/reliability.md.
"""

from __future__ import annotations

import os

import pytest

from resnet_essence.io import atomic_path, write_text


@pytest.mark.parametrize("umask", [0o022, 0o077])
def test_written_files_get_the_mode_open_would_give(tmp_path, umask, monkeypatch):
    previous = os.umask(umask)
    try:
        # the writer must not change the umask (not even for a moment: threads share it)
        monkeypatch.setattr(os, "umask", lambda *_: pytest.fail("atomic_path changed the umask"))
        write_text(tmp_path / "report.html", "<html></html>\n")
        with atomic_path(tmp_path / "main.png") as tmp:
            tmp.write_bytes(b"\x89PNG")
        (tmp_path / "plain.txt").write_text("as open() makes it\n")
        monkeypatch.undo()
    finally:
        os.umask(previous)
    expected = 0o666 & ~umask  # 0644 and 0600
    for name in ("report.html", "main.png", "plain.txt"):
        assert oct((tmp_path / name).stat().st_mode & 0o777) == oct(expected), name
