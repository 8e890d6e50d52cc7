"""Dataset preparation: load digits, CIFAR-10 or an image folder into one in-memory form.

Every loader returns a :class:`Dataset` of ``uint8`` images laid out ``(N, C, H, W)`` and
``int64`` labels, built in a deterministic order, so that the same inputs always give the same
arrays. :func:`save_dataset` writes one ``.npz`` file atomically and :func:`read_dataset` reads
it back whole; that file is what the training steps of the pipeline consume. Every problem with
the inputs raises :class:`DataError`, whose message names the file, key or checksum involved.

This file holds :func:`load_dataset`, which picks the loader by name; every other job has its
own module:

``dataset``
    :class:`Dataset` and :class:`DataError`.
``digits``, ``cifar10``, ``imagefolder``
    One loader per source: scikit-learn's bundled 8x8 digits (split by a seed), the official
    CIFAR-10 python archive (downloaded and MD5-checked, read from the tar file), and
    ``root/{train,test}/{class}/*.png|jpg|jpeg``.
``subsets``
    The stratified, seeded per-class subsets (``train_per_class``, ``test_per_class``,
    ``subset_seed``) that the loaders draw, and the record of them in :attr:`Dataset.subset`.
``npz``
    :func:`save_dataset` and :func:`read_dataset`.
``options``
    :class:`DataOptions` and :func:`loader_options`: the config's ``data:`` section as the chosen
    loader's keywords. The loaders have no defaults of their own for what the config sets.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .cifar10 import CIFAR10_ARCHIVE, load_cifar10
from .dataset import DataError, Dataset
from .digits import load_digits
from .imagefolder import load_imagefolder
from .npz import FORMAT_VERSION, read_dataset, save_dataset
from .options import DataOptions, loader_options

__all__ = [
    "CIFAR10_ARCHIVE",
    "DATASETS",
    "FORMAT_VERSION",
    "DataError",
    "DataOptions",
    "Dataset",
    "load_cifar10",
    "load_dataset",
    "load_digits",
    "load_imagefolder",
    "loader_options",
    "read_dataset",
    "save_dataset",
]

DATASETS: dict[str, Callable[..., Dataset]] = {
    "digits": load_digits,
    "cifar10": load_cifar10,
    "imagefolder": load_imagefolder,
}
_NEEDS_ROOT = {"cifar10", "imagefolder"}


def load_dataset(name: str, data_root: str | Path | None = None, **options: Any) -> Dataset:
    """Load dataset ``name`` (one of :data:`DATASETS`) with loader-specific ``options``.

    ``data_root`` is required for ``cifar10`` and ``imagefolder`` and ignored for ``digits``.
    """
    loader = DATASETS.get(name)
    if loader is None:
        raise DataError(f"unknown dataset {name!r}; known datasets: {', '.join(sorted(DATASETS))}")
    args: tuple[Any, ...] = ()
    if name in _NEEDS_ROOT:
        if data_root is None:
            raise DataError(f"dataset {name!r} needs a data_root")
        args = (data_root,)
    try:
        inspect.signature(loader).bind(*args, **options)
    except TypeError as exc:
        params = [p for p in inspect.signature(loader).parameters if p != "data_root"]
        raise DataError(
            f"bad options {sorted(options)} for dataset {name!r} ({exc}); "
            f"accepted: {', '.join(params)}"
        ) from exc
    return loader(*args, **options)
