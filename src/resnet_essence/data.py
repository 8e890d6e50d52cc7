"""Dataset preparation: load digits, CIFAR-10 or an image folder into one in-memory form.

Every loader returns a :class:`Dataset` of ``uint8`` images laid out ``(N, C, H, W)`` and
``int64`` labels, built in a deterministic order, so that the same inputs always give the same
arrays. :func:`save_dataset` writes one ``.npz`` file atomically and :func:`read_dataset` reads
it back whole; that file is what the training steps of the pipeline consume.

Every problem with the inputs (a missing file, a bad checksum, an unreadable image, an
inconsistent folder layout, an unknown option) raises :class:`DataError`, whose message names
the file, key or checksum involved.

Sources
-------
``digits``
    scikit-learn's bundled 8x8 handwritten digits (1,797 images, no download). Pixel values
    0..16 are scaled to 0..255. The train/test split is stratified by class and fixed by a seed.
``cifar10``
    The official python archive ``cifar-10-python.tar.gz``, read straight from the tar file (no
    extraction) after an MD5 check. The official split is 50,000 train / 10,000 test images.
    With ``validation_split=True`` the split is the one He et al. (2016) use for tuning: the
    first 45,000 training images train and the last 5,000 training images are held out as the
    test set; the official test batch is not used at all. (In general: the last tenth of the
    training images, in archive order, are held out.)
``imagefolder``
    ``root/{train,test}/{class}/*.png|jpg|jpeg``; classes are the sorted directory names.

Subsets
-------
Every loader takes ``train_per_class`` and ``test_per_class`` (``None``, the default, keeps
every image) and ``subset_seed`` (default 0): keep exactly that many images of every class in
the training and in the test split, chosen at random but fixed by the seed. The choice depends
only on the seed, the split, the class and the split's images in their canonical order (sorted
file names, archive order, or the digits split), never on the order a file system lists them.
For a given seed a smaller subset is contained in a larger one. The kept images stay in the
order of the full split, so the subset is a subsequence of what the loader gives without it.
Subsets are drawn from the split that results from the other options (for CIFAR-10 with
``validation_split=True``, the test subset comes from the 5,000 held-out training images). The
image folder decodes only the chosen files. A class holding fewer images than asked, or a count
below 1, raises :class:`DataError` naming the config key (``data.train_per_class``,
``data.test_per_class``) and, for the former, every short class with how many images it holds.
:attr:`Dataset.subset` records the options and the resulting counts, and
:meth:`Dataset.describe` (the JSON written next to the prepared data) includes them.
"""

from __future__ import annotations

import hashlib
import http.client
import inspect
import io
import pickle
import tarfile
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from resnet_essence.files import atomic_path, read_json, verify

__all__ = [
    "CIFAR10_ARCHIVE",
    "CIFAR10_MD5",
    "CIFAR10_URL",
    "DATASETS",
    "DataError",
    "Dataset",
    "load_cifar10",
    "load_dataset",
    "load_digits",
    "load_imagefolder",
    "read_dataset",
    "save_dataset",
]

CIFAR10_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
CIFAR10_MD5 = "c58f30108f718f92721af3b95e74349a"
CIFAR10_ARCHIVE = "cifar-10-python.tar.gz"
CIFAR10_DIR = "cifar-10-batches-py"
CIFAR10_TRAIN_MEMBERS = tuple(f"{CIFAR10_DIR}/data_batch_{i}" for i in range(1, 6))
CIFAR10_TEST_MEMBER = f"{CIFAR10_DIR}/test_batch"
CIFAR10_META_MEMBER = f"{CIFAR10_DIR}/batches.meta"
#: With ``validation_split=True`` one in this many training images (the last ones) is held out.
CIFAR10_VALIDATION_DENOMINATOR = 10
DOWNLOAD_TIMEOUT_S = 60.0

IMAGE_EXTENSIONS = frozenset({".png", ".jpg", ".jpeg"})

#: Config keys of the per-class subset sizes, named by every error about them.
SUBSET_KEYS = {"train": "data.train_per_class", "test": "data.test_per_class"}
#: Each split draws its subset from its own random stream, so train and test picks are unrelated.
_SPLIT_STREAMS = {"train": 0, "test": 1}

#: Version of the ``.npz`` layout written by :func:`save_dataset`.
FORMAT_VERSION = 1
_NPZ_KEYS = ("x_train", "y_train", "x_test", "y_test", "classes", "name", "format_version")


class DataError(ValueError):
    """Bad input data or options; the message names the file, key or checksum at fault."""


@dataclass(eq=False)
class Dataset:
    """Images as ``uint8`` ``(N, C, H, W)`` arrays with ``int64`` labels indexing ``classes``.

    ``subset`` records the per-class subset options a loader was given and the counts that
    resulted (see :func:`_subset_record`); ``None`` when the dataset was not made by a loader.
    It is not stored by :func:`save_dataset`.
    """

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    classes: list[str]
    subset: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        self.classes = [str(c) for c in self.classes]
        if not self.classes:
            raise DataError(f"dataset {self.name!r}: no classes")
        if len(set(self.classes)) != len(self.classes):
            raise DataError(f"dataset {self.name!r}: duplicate class names in {self.classes}")
        for split in ("train", "test"):
            x = np.asarray(getattr(self, f"x_{split}"))
            y = np.asarray(getattr(self, f"y_{split}"))
            if x.dtype != np.uint8 or x.ndim != 4:
                raise DataError(
                    f"dataset {self.name!r}: x_{split} must be uint8 (N, C, H, W), "
                    f"got {x.dtype} with shape {x.shape}"
                )
            if y.ndim != 1 or not np.issubdtype(y.dtype, np.integer):
                raise DataError(
                    f"dataset {self.name!r}: y_{split} must be 1-D integer labels, "
                    f"got {y.dtype} with shape {y.shape}"
                )
            if len(x) != len(y):
                raise DataError(
                    f"dataset {self.name!r}: {len(x)} images but {len(y)} labels in {split}"
                )
            if len(x) == 0:
                raise DataError(f"dataset {self.name!r}: the {split} split is empty")
            if y.min() < 0 or y.max() >= len(self.classes):
                raise DataError(
                    f"dataset {self.name!r}: y_{split} has labels outside "
                    f"0..{len(self.classes) - 1}"
                )
            setattr(self, f"x_{split}", x)
            setattr(self, f"y_{split}", y.astype(np.int64, copy=False))
        if self.x_train.shape[1:] != self.x_test.shape[1:]:
            raise DataError(
                f"dataset {self.name!r}: train images are {self.x_train.shape[1:]} "
                f"but test images are {self.x_test.shape[1:]}"
            )

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    @property
    def channels(self) -> int:
        return int(self.x_train.shape[1])

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """``(C, H, W)`` of one image."""
        c, h, w = self.x_train.shape[1:]
        return int(c), int(h), int(w)

    @property
    def image_size(self) -> int:
        """Image height in pixels (images are square for every built-in source)."""
        return int(self.x_train.shape[2])

    @cached_property
    def _channel_moments(self) -> tuple[tuple[float, ...], tuple[float, ...]]:
        # Exact per-channel mean and sample std (n - 1, as training's Normaliser computes them)
        # of x_train / 255 from a 256-bin histogram: no float copy of the (150 MB) images.
        values = np.arange(256, dtype=np.float64) / 255.0
        means, stds = [], []
        for c in range(self.channels):
            counts = np.bincount(self.x_train[:, c].ravel(), minlength=256).astype(np.float64)
            n = counts.sum()
            mean = float((counts * values).sum() / n)
            var = float((counts * (values - mean) ** 2).sum() / max(n - 1, 1))
            means.append(mean)
            stds.append(var**0.5)
        return tuple(means), tuple(stds)

    @property
    def mean(self) -> tuple[float, ...]:
        """Per-channel mean of the training images scaled to [0, 1]."""
        return self._channel_moments[0]

    @property
    def std(self) -> tuple[float, ...]:
        """Per-channel sample standard deviation of the training images scaled to [0, 1]: the
        statistic training normalises with (training.Normaliser)."""
        return self._channel_moments[1]

    def describe(self) -> dict[str, Any]:
        """A JSON-ready summary: sizes, shape, classes and normalisation statistics."""
        return {
            "name": self.name,
            "n_train": int(len(self.x_train)),
            "n_test": int(len(self.x_test)),
            "image_shape": list(self.image_shape),
            "num_classes": self.num_classes,
            "classes": list(self.classes),
            "mean": list(self.mean),
            "std": list(self.std),
            "train_class_counts": np.bincount(self.y_train, minlength=self.num_classes).tolist(),
            "test_class_counts": np.bincount(self.y_test, minlength=self.num_classes).tolist(),
            "subset": dict(self.subset) if self.subset is not None else None,
        }


# -------------------------------------------------------------------------------------- subsets


def _check_subset_options(
    train_per_class: int | None, test_per_class: int | None, subset_seed: int
) -> None:
    """Refuse subset options of the wrong type or range, naming the config key."""
    for split, value in (("train", train_per_class), ("test", test_per_class)):
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1
        ):
            raise DataError(
                f"{SUBSET_KEYS[split]} must be a positive integer (images per class) or null "
                f"for all images, got {value!r}"
            )
    if (
        isinstance(subset_seed, bool)
        or not isinstance(subset_seed, int | np.integer)
        or subset_seed < 0
    ):
        raise DataError(f"data.subset_seed must be a non-negative integer, got {subset_seed!r}")


def _select_per_class(
    labels: np.ndarray,
    classes: list[str],
    per_class: int | None,
    seed: int,
    split: str,
    where: str,
) -> np.ndarray:
    """Ascending positions in ``labels`` of ``per_class`` seeded picks of every class.

    ``labels`` must be in the split's canonical order. Each class draws from its own stream,
    seeded by ``(seed, split, class index)``: a random permutation of the class's positions of
    which the first ``per_class`` are kept, so a smaller subset is part of a larger one.
    ``per_class=None`` keeps every position. ``where`` names the split's source in errors.
    """
    if per_class is None:
        return np.arange(len(labels))
    chosen, short = [], []
    for c, name in enumerate(classes):
        positions = np.flatnonzero(labels == c)
        if len(positions) < per_class:
            short.append(f"{name!r} holds {len(positions)}")
            continue
        rng = np.random.default_rng([int(seed), _SPLIT_STREAMS[split], c])
        chosen.append(positions[rng.permutation(len(positions))[:per_class]])
    if short:
        key = SUBSET_KEYS[split]
        raise DataError(
            f"{key}={per_class} asks for more {split} images than some classes hold in "
            f"{where}: class {', class '.join(short)}; lower {key} or set it to null"
        )
    return np.sort(np.concatenate(chosen))


def _subset_record(
    train_per_class: int | None,
    test_per_class: int | None,
    subset_seed: int,
    available: dict[str, int],
    kept: dict[str, int],
) -> dict[str, Any]:
    """The JSON-ready record of :attr:`Dataset.subset`: options, images available and kept."""
    return {
        "train_per_class": None if train_per_class is None else int(train_per_class),
        "test_per_class": None if test_per_class is None else int(test_per_class),
        "subset_seed": int(subset_seed),
        "n_train_available": int(available["train"]),
        "n_test_available": int(available["test"]),
        "n_train": int(kept["train"]),
        "n_test": int(kept["test"]),
    }


# --------------------------------------------------------------------------------------- digits


def load_digits(
    test_fraction: float = 0.2,
    seed: int = 0,
    *,
    train_per_class: int | None = None,
    test_per_class: int | None = None,
    subset_seed: int = 0,
) -> Dataset:
    """scikit-learn's 8x8 digits, scaled to 0..255, split by class with a fixed seed.

    ``train_per_class``/``test_per_class`` keep that many images of every class of the split
    (chosen with ``subset_seed``, independent of ``seed``; see the module notes on subsets).
    """
    from sklearn.datasets import load_digits as sk_load_digits
    from sklearn.model_selection import train_test_split

    if isinstance(test_fraction, bool) or not isinstance(test_fraction, int | float):
        raise DataError(f"digits: test_fraction must be a number in (0, 1), got {test_fraction!r}")
    if not 0.0 < float(test_fraction) < 1.0:
        raise DataError(f"digits: test_fraction must be in (0, 1), got {test_fraction!r}")
    _check_subset_options(train_per_class, test_per_class, subset_seed)
    bunch = sk_load_digits()
    images = np.round(bunch.images * (255.0 / 16.0)).clip(0, 255).astype(np.uint8)
    images = images[:, None, :, :]
    labels = bunch.target.astype(np.int64)
    try:
        train_idx, test_idx = train_test_split(
            np.arange(len(labels)),
            test_size=float(test_fraction),
            stratify=labels,
            random_state=seed,
        )
    except ValueError as exc:
        raise DataError(
            f"digits: cannot split with test_fraction={test_fraction!r}: {exc}"
        ) from exc
    classes = [str(int(c)) for c in bunch.target_names]
    available = {"train": len(train_idx), "test": len(test_idx)}
    train_idx = train_idx[
        _select_per_class(
            labels[train_idx], classes, train_per_class, subset_seed, "train", "digits"
        )
    ]
    test_idx = test_idx[
        _select_per_class(labels[test_idx], classes, test_per_class, subset_seed, "test", "digits")
    ]
    return Dataset(
        name="digits",
        x_train=images[train_idx],
        y_train=labels[train_idx],
        x_test=images[test_idx],
        y_test=labels[test_idx],
        classes=classes,
        subset=_subset_record(
            train_per_class,
            test_per_class,
            subset_seed,
            available,
            {"train": len(train_idx), "test": len(test_idx)},
        ),
    )


# -------------------------------------------------------------------------------------- CIFAR-10


def load_cifar10(
    data_root: str | Path,
    download: bool = True,
    validation_split: bool = False,
    md5: str | None = CIFAR10_MD5,
    url: str | None = None,
    *,
    train_per_class: int | None = None,
    test_per_class: int | None = None,
    subset_seed: int = 0,
) -> Dataset:
    """CIFAR-10 from ``data_root/cifar-10-python.tar.gz``, downloaded first if absent.

    ``validation_split=False`` gives the official 50,000/10,000 split. ``validation_split=True``
    gives He et al.'s 45,000/5,000 split of the *training* set: train on the first 45,000
    training images, test on the last 5,000 (the official test batch is left out).
    ``md5=None`` skips the checksum (only for test archives); ``url=None`` uses
    :data:`CIFAR10_URL` as it is set at call time.

    ``train_per_class``/``test_per_class`` keep that many images of every class of the split
    that results (so with ``validation_split`` the test subset comes from the held-out training
    images), chosen with ``subset_seed``; the kept images stay in archive order.
    """
    _check_subset_options(train_per_class, test_per_class, subset_seed)
    archive = Path(data_root) / CIFAR10_ARCHIVE
    if not archive.is_file():
        if not download:
            raise DataError(
                f"CIFAR-10 archive missing at {archive} and download=False. "
                + _manual_instructions(archive, md5)
            )
        _download(url if url is not None else CIFAR10_URL, archive, md5)
    elif md5 is not None:
        actual = _md5_of(archive)
        if actual != md5.lower():
            raise DataError(
                f"checksum mismatch for {archive}: expected MD5 {md5.lower()}, got {actual}. "
                "The file is corrupt, incomplete or not the CIFAR-10 python archive; delete it "
                "and download it again."
            )

    members = _read_cifar10_members(archive)
    names = members[CIFAR10_META_MEMBER].get(b"label_names")
    if names is None:
        raise DataError(f"{archive}: {CIFAR10_META_MEMBER} has no key b'label_names'")
    classes = [n.decode() if isinstance(n, bytes) else str(n) for n in names]
    parts = [_cifar10_batch(archive, m, members[m]) for m in CIFAR10_TRAIN_MEMBERS]
    x_train = np.concatenate([p[0] for p in parts])
    y_train = np.concatenate([p[1] for p in parts])
    if validation_split:
        n_val = len(x_train) // CIFAR10_VALIDATION_DENOMINATOR
        if n_val == 0:
            raise DataError(f"{archive}: too few training images for a validation split")
        n_fit = len(x_train) - n_val
        x_test, y_test = x_train[n_fit:], y_train[n_fit:]
        x_train, y_train = x_train[:n_fit], y_train[:n_fit]
    else:
        x_test, y_test = _cifar10_batch(archive, CIFAR10_TEST_MEMBER, members[CIFAR10_TEST_MEMBER])
    _check_labels(archive, classes, y_train, y_test)
    test_source = "held-out validation split" if validation_split else "test batch"
    available = {"train": len(y_train), "test": len(y_test)}
    keep_train = _select_per_class(
        y_train, classes, train_per_class, subset_seed, "train", f"{archive} (training batches)"
    )
    keep_test = _select_per_class(
        y_test, classes, test_per_class, subset_seed, "test", f"{archive} ({test_source})"
    )
    if train_per_class is not None:
        x_train, y_train = x_train[keep_train], y_train[keep_train]
    if test_per_class is not None:
        x_test, y_test = x_test[keep_test], y_test[keep_test]
    subset = _subset_record(
        train_per_class,
        test_per_class,
        subset_seed,
        available,
        {"train": len(y_train), "test": len(y_test)},
    )
    return Dataset("cifar10", x_train, y_train, x_test, y_test, classes, subset=subset)


def _manual_instructions(archive: Path, md5: str | None) -> str:
    checksum = f" (MD5 {md5})" if md5 else ""
    return (
        f"Download {CIFAR10_URL}{checksum} on a machine with network access and place it, "
        f"unextracted, at {archive}."
    )


def _md5_of(path: Path) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _download(url: str, archive: Path, md5: str | None) -> None:
    """Fetch ``url`` to a temporary sibling of ``archive``; keep it only if the MD5 matches."""
    try:
        with atomic_path(archive) as tmp:
            digest = hashlib.md5(usedforsecurity=False)
            with (
                urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_S) as response,
                open(tmp, "wb") as out,
            ):
                for chunk in iter(lambda: response.read(1 << 20), b""):
                    digest.update(chunk)
                    out.write(chunk)
            actual = digest.hexdigest()
            if md5 is not None and actual != md5.lower():
                raise DataError(
                    f"checksum mismatch for {archive} downloaded from {url}: expected MD5 "
                    f"{md5.lower()}, got {actual}; nothing was kept. "
                    + _manual_instructions(archive, md5)
                )
    except DataError:
        raise
    except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", None) or exc
        raise DataError(
            f"CIFAR-10 archive missing at {archive} and the download from {url} failed "
            f"({reason}). " + _manual_instructions(archive, md5)
        ) from exc


def _read_cifar10_members(archive: Path) -> dict[str, dict]:
    wanted = {*CIFAR10_TRAIN_MEMBERS, CIFAR10_TEST_MEMBER, CIFAR10_META_MEMBER}
    found: dict[str, dict] = {}
    try:
        with tarfile.open(archive, "r:gz") as tar:
            for member in tar:  # one pass over the gzip stream, nothing written to disk
                if member.name in wanted and member.isfile():
                    fh = tar.extractfile(member)
                    if fh is None:  # pragma: no cover - isfile() guarantees a reader
                        continue
                    found[member.name] = _unpickle(archive, member.name, fh.read())
    except DataError:
        raise
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise DataError(f"{archive} is not a readable tar.gz archive: {exc}") from exc
    missing = sorted(wanted - found.keys())
    if missing:
        raise DataError(f"{archive} lacks member(s) {', '.join(missing)}")
    return found


def _unpickle(archive: Path, member: str, payload: bytes) -> dict:
    # The batches are Python-2 pickles with byte-string keys. Pickle can run code, which is
    # acceptable here only because the archive's checksum was verified first.
    try:
        obj = pickle.load(io.BytesIO(payload), encoding="bytes")
    except Exception as exc:  # a corrupt pickle raises almost anything
        raise DataError(f"{archive}: member {member} is not a readable pickle: {exc}") from exc
    if not isinstance(obj, dict):
        raise DataError(f"{archive}: member {member} holds {type(obj).__name__}, not a dict")
    return obj


def _cifar10_batch(archive: Path, member: str, batch: dict) -> tuple[np.ndarray, np.ndarray]:
    for key in (b"data", b"labels"):
        if key not in batch:
            raise DataError(f"{archive}: member {member} has no key {key!r}")
    data = np.asarray(batch[b"data"])
    labels = np.asarray(batch[b"labels"])
    if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3 * 32 * 32:
        raise DataError(
            f"{archive}: member {member} b'data' must be uint8 (N, 3072), "
            f"got {data.dtype} {data.shape}"
        )
    if labels.ndim != 1 or len(labels) != len(data) or not np.issubdtype(labels.dtype, np.integer):
        raise DataError(
            f"{archive}: member {member} has {len(data)} images but labels of shape "
            f"{labels.shape} ({labels.dtype})"
        )
    # Each row is the red, then green, then blue 32x32 plane, each stored row-major.
    return data.reshape(-1, 3, 32, 32), labels.astype(np.int64)


def _check_labels(archive: Path, classes: list[str], *label_sets: np.ndarray) -> None:
    for labels in label_sets:
        if len(labels) and (labels.min() < 0 or labels.max() >= len(classes)):
            raise DataError(
                f"{archive}: labels outside 0..{len(classes) - 1} for {len(classes)} label names"
            )


# ----------------------------------------------------------------------------------- imagefolder


def load_imagefolder(
    data_root: str | Path,
    image_size: int | None = None,
    grayscale: bool = False,
    *,
    train_per_class: int | None = None,
    test_per_class: int | None = None,
    subset_seed: int = 0,
) -> Dataset:
    """Images from ``data_root/{train,test}/{class}/*.png|jpg|jpeg`` (extension case ignored).

    Classes are the sorted names of the class directories under ``train``; ``test`` must have
    exactly the same ones. Files are read in sorted name order. Without ``image_size`` every
    image must have the same size; with it every image is resized to ``image_size`` squared
    (bilinear). Images are converted to RGB (3 channels) or, with ``grayscale``, to L (1).

    ``train_per_class``/``test_per_class`` keep that many images of every class, chosen with
    ``subset_seed`` from the sorted file names; only the chosen files are decoded. Images come
    by class, then by file name.
    """
    root = Path(data_root)
    if image_size is not None and (
        isinstance(image_size, bool) or not isinstance(image_size, int) or image_size < 1
    ):
        raise DataError(f"imagefolder: image_size must be a positive integer, got {image_size!r}")
    _check_subset_options(train_per_class, test_per_class, subset_seed)
    split_dirs = {split: root / split for split in ("train", "test")}
    for split, directory in split_dirs.items():
        if not directory.is_dir():
            raise DataError(f"imagefolder: the {split} directory {directory} does not exist")
    classes = _class_dirs(split_dirs["train"])
    if not classes:
        raise DataError(f"imagefolder: no class directories in {split_dirs['train']}")
    test_classes = _class_dirs(split_dirs["test"])
    only_train = sorted(set(classes) - set(test_classes))
    only_test = sorted(set(test_classes) - set(classes))
    if only_train or only_test:
        problems = []
        if only_train:
            problems.append(f"{only_train} missing from {split_dirs['test']}")
        if only_test:
            problems.append(f"{only_test} missing from {split_dirs['train']}")
        raise DataError("imagefolder: class directories differ: " + "; ".join(problems))

    # Choose the files of both splits from the listings before decoding any image.
    per_class = {"train": train_per_class, "test": test_per_class}
    chosen: dict[str, tuple[list[Path], np.ndarray]] = {}
    available: dict[str, int] = {}
    for split, directory in split_dirs.items():
        listings = [_image_files(directory / cls) for cls in classes]
        files = [file for listing in listings for file in listing]
        labels = np.repeat(np.arange(len(classes), dtype=np.int64), [len(f) for f in listings])
        keep = _select_per_class(
            labels, classes, per_class[split], subset_seed, split, str(directory)
        )
        chosen[split] = ([files[i] for i in keep], labels[keep])
        available[split] = len(files)

    reader = _ImageReader(image_size, grayscale)
    arrays: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for split, (files, labels) in chosen.items():
        arrays[split] = (np.stack([reader.read(file) for file in files]), labels)
    subset = _subset_record(
        train_per_class,
        test_per_class,
        subset_seed,
        available,
        {split: len(labels) for split, (_, labels) in chosen.items()},
    )
    return Dataset("imagefolder", *arrays["train"], *arrays["test"], classes=classes, subset=subset)


def _image_files(class_dir: Path) -> list[Path]:
    """The image files of one class directory, sorted by name; at least one or an error."""
    files = sorted(
        p
        for p in class_dir.iterdir()
        if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in IMAGE_EXTENSIONS
    )
    if not files:
        raise DataError(f"imagefolder: class directory {class_dir} holds no .png/.jpg/.jpeg images")
    return files


def _class_dirs(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.is_dir() and not p.name.startswith("."))


class _ImageReader:
    """Reads one image file to a ``(C, H, W)`` uint8 array, checking sizes agree."""

    def __init__(self, image_size: int | None, grayscale: bool) -> None:
        self.image_size = image_size
        self.mode = "L" if grayscale else "RGB"
        self.first: tuple[Path, tuple[int, int]] | None = None

    def read(self, file: Path) -> np.ndarray:
        from PIL import Image

        try:
            with Image.open(file) as img:
                img.load()
                img = img.convert(self.mode)
        except Exception as exc:  # Pillow raises many kinds for a damaged file
            raise DataError(f"imagefolder: cannot read image {file}: {exc}") from exc
        if self.image_size is not None:
            if img.size != (self.image_size, self.image_size):
                img = img.resize((self.image_size, self.image_size), Image.Resampling.BILINEAR)
        elif self.first is None:
            self.first = (file, img.size)
        elif img.size != self.first[1]:
            w0, h0 = self.first[1]
            w, h = img.size
            raise DataError(
                f"imagefolder: image {file} is {w}x{h} but {self.first[0]} is {w0}x{h0}; "
                "pass image_size to resize all images to one size"
            )
        array = np.asarray(img, dtype=np.uint8)
        if array.ndim == 2:
            array = array[:, :, None]
        return np.ascontiguousarray(array.transpose(2, 0, 1))


# ------------------------------------------------------------------------------------ dispatcher

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


# ------------------------------------------------------------------------------- save and read


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
