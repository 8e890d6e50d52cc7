"""The prepared-data file: one uncompressed ``.npz`` that training steps read back whole.

:func:`save_dataset` writes it atomically, with no pickles inside; :func:`read_dataset` reads it,
refusing a missing, truncated or foreign file, or one of another :data:`FORMAT_VERSION`, with a
:class:`DataError` naming the file.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from resnet_essence.files import atomic_path, read_json, verify

from .dataset import DataError, Dataset

#: Version of the ``.npz`` layout written by :func:`save_dataset`.
FORMAT_VERSION = 1
_NPZ_KEYS = ("x_train", "y_train", "x_test", "y_test", "classes", "name", "format_version")


def save_dataset(dataset: Dataset, path: str | Path) -> None:
    """Write ``dataset`` to one uncompressed ``.npz`` file, atomically (no pickles inside)."""
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        # Writing through a file object stops np.savez from appending ".npz" to the name.
        np.savez(
            fh,
            x_train=dataset.x_train,
            y_train=dataset.y_train,
            x_test=dataset.x_test,
            y_test=dataset.y_test,
            classes=np.asarray(dataset.classes, dtype=np.str_),
            name=np.asarray(dataset.name, dtype=np.str_),
            format_version=np.asarray(FORMAT_VERSION, dtype=np.int64),
        )


def read_dataset(path: str | Path, info_path: str | Path | None = None) -> Dataset:
    """Read a file written by :func:`save_dataset` whole into memory. With ``info_path`` (the
    JSON rule prepare_data writes beside it), first check the file against its record."""
    if info_path is not None:
        verify(path, read_json(info_path).get("npz"), "prepare_data")
    path = Path(path)
    if not path.is_file():
        raise DataError(f"dataset file {path} does not exist")
    try:
        with np.load(path, allow_pickle=False) as npz:
            missing = [key for key in _NPZ_KEYS if key not in npz.files]
            if missing:
                raise DataError(f"dataset file {path} lacks key(s) {', '.join(missing)}")
            arrays = {key: npz[key] for key in _NPZ_KEYS}
        version = int(arrays["format_version"])
    except DataError:
        raise
    except Exception as exc:  # zip, header and truncation errors all mean a corrupt file
        raise DataError(f"dataset file {path} is corrupt or not a saved dataset: {exc}") from exc
    if version != FORMAT_VERSION:
        raise DataError(
            f"dataset file {path} has format_version {version}, expected {FORMAT_VERSION}"
        )
    try:
        return Dataset(
            name=str(arrays["name"]),
            x_train=arrays["x_train"],
            y_train=arrays["y_train"],
            x_test=arrays["x_test"],
            y_test=arrays["y_test"],
            classes=[str(c) for c in arrays["classes"]],
        )
    except DataError as exc:
        raise DataError(f"dataset file {path}: {exc}") from exc
