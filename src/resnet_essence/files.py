"""Atomic file output: every reader sees either the old file or the whole new one.

Snakemake takes a file that exists as done, so a crash half-way through a write must never leave
a truncated file under the final name. Everything is written to a temporary sibling and renamed.
A full disk (or quota) is reported with the final path, never as a writer's cryptic message.

The rule that writes a file a later rule reads records its size and SHA-256 (``file_record``)
in a file it writes last; the reader checks it (``verify``), so a truncated or altered file is
named and refused, never computed from.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

# errno -> what the user is told; both mean "free space, then run the same command again"
_FULL = {errno.ENOSPC: "no space left on device", errno.EDQUOT: "disk quota exceeded"}


@contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` if the block succeeds.

    The temporary name keeps the suffix, so writers that pick a format by extension still work.
    The file ends with the mode a plain ``open()`` gives (0666 less the umask). A full disk
    raises ``OSError(ENOSPC)`` naming ``path``; the old file (or none) stays, no temporary.
    """
    final = Path(path)
    tmp_path: Path | None = None
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp_path = _new_sibling(final)
        yield tmp_path
        with open(tmp_path, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp_path, final)
    except Exception as error:
        code = _full_disk(error, final.parent)
        if code is None:
            raise
        raise OSError(code, _FULL[code], str(final)) from error
    finally:
        if tmp_path is not None:
            tmp_path.unlink(missing_ok=True)


def _new_sibling(final: Path) -> Path:
    """Create an empty, new file beside ``final`` and return its path.

    Not ``tempfile.mkstemp``: that creates mode 0600, and colleagues on a shared cluster could not
    read the results. ``os.open`` with 0666 lets the kernel apply the umask (or the directory's
    default ACL) exactly as for ``open()``, without touching the process's umask.
    """
    while True:
        tmp = final.parent / f".{final.stem}.{secrets.token_hex(4)}{final.suffix}"
        try:
            os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
        except FileExistsError:  # another writer's temporary by chance: draw another name
            continue
        return tmp


def _full_disk(error: Exception, directory: Path) -> int | None:
    """ENOSPC or EDQUOT if ``error`` comes from a full disk or quota, else None."""
    if isinstance(error, OSError):
        return error.errno if error.errno in _FULL else None
    # torch.save hides ENOSPC in a RuntimeError ("unexpected pos ..."): ask the disk itself
    try:
        return errno.ENOSPC if os.statvfs(directory).f_bavail == 0 else None
    except OSError:
        return None


def write_text(path: str | os.PathLike, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_json(path: str | os.PathLike, obj: Any) -> None:
    write_text(path, json.dumps(obj, indent=2, sort_keys=True, default=_json_default) + "\n")


def write_csv(path: str | os.PathLike, frame) -> None:
    """Write a pandas DataFrame as CSV without the index."""
    with atomic_path(path) as tmp:
        frame.to_csv(tmp, index=False)


def read_json(path: str | os.PathLike) -> Any:
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


def _json_default(value: Any) -> Any:
    # numpy scalars and arrays reach JSON through their Python equivalents
    if hasattr(value, "item") and getattr(value, "ndim", 1) == 0:
        return value.item()
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"cannot serialise {type(value).__name__} to JSON")


class DamagedFile(ValueError):
    """A file differs from what the rule that wrote it recorded (truncated, altered)."""


def file_record(path: str | os.PathLike) -> dict[str, Any]:
    """The size and SHA-256 of a file, as the rule that writes it records them."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return {"bytes": os.path.getsize(path), "sha256": digest.hexdigest()}


def verify(path: str | os.PathLike, record: dict[str, Any] | None, writer: str) -> None:
    """DamagedFile naming ``path`` when it is not the file ``record`` describes.

    ``writer`` is the rule that wrote it, for the message: delete the file and rerun. A missing
    record (results written before records were kept) is not an error.
    """
    if not record:
        return
    found = file_record(path)
    if found != {"bytes": record["bytes"], "sha256": record["sha256"]}:
        raise DamagedFile(
            f"{path} is damaged: {found['bytes']} bytes with SHA-256 {found['sha256'][:16]}..., "
            f"but rule {writer} wrote {record['bytes']} bytes with SHA-256 "
            f"{record['sha256'][:16]}... Delete it and rerun (Snakemake then runs {writer} again)."
        )
