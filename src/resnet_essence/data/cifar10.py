"""CIFAR-10 from the official python archive: download, MD5 check, tar members, batches.

The archive ``cifar-10-python.tar.gz`` is read straight from the tar file (no extraction) after
an MD5 check; the expected checksum is the config's ``data.cifar10_md5``, nowhere else. The
official split is 50,000 train / 10,000 test images. With ``validation_split=True`` the split is
the one He et al. (2016) use for tuning: the first 45,000 training images train and the last
5,000 training images are held out as the test set; the official test batch is not used at all.
(In general: the last tenth of the training images, in archive order, are held out.)
"""

from __future__ import annotations

import hashlib
import http.client
import io
import pickle
import tarfile
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np

from resnet_essence.files import atomic_path

from .dataset import DataError, Dataset, resize_images
from .subsets import check_subset_options, select_per_class, subset_record

CIFAR10_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
CIFAR10_ARCHIVE = "cifar-10-python.tar.gz"
CIFAR10_DIR = "cifar-10-batches-py"
CIFAR10_TRAIN_MEMBERS = tuple(f"{CIFAR10_DIR}/data_batch_{i}" for i in range(1, 6))
CIFAR10_TEST_MEMBER = f"{CIFAR10_DIR}/test_batch"
CIFAR10_META_MEMBER = f"{CIFAR10_DIR}/batches.meta"
#: With ``validation_split=True`` one in this many training images (the last ones) is held out.
CIFAR10_VALIDATION_DENOMINATOR = 10
DOWNLOAD_TIMEOUT_S = 60.0


def load_cifar10(
    data_root: str | Path,
    download: bool,
    validation_split: bool,
    md5: str | None,
    url: str | None = None,
    *,
    image_size: int | None,
    train_per_class: int | None,
    test_per_class: int | None,
    subset_seed: int,
) -> Dataset:
    """CIFAR-10 from ``data_root/cifar-10-python.tar.gz``, downloaded first if absent.

    ``validation_split=False`` gives the official 50,000/10,000 split. ``validation_split=True``
    gives He et al.'s 45,000/5,000 split of the *training* set: train on the first 45,000
    training images, test on the last 5,000 (the official test batch is left out).
    ``md5`` is the archive's expected checksum (config ``data.cifar10_md5``); ``md5=None``
    skips the check (only for test archives). ``url=None`` uses this module's
    :data:`CIFAR10_URL` as it is set at call time.

    ``train_per_class``/``test_per_class`` keep that many images of every class of the split
    that results (so with ``validation_split`` the test subset comes from the held-out training
    images), chosen with ``subset_seed``; the kept images stay in archive order.
    ``image_size`` resizes every kept image to that square (bilinear, as the image-folder path
    does); None keeps 32x32.
    """
    check_subset_options(train_per_class, test_per_class, subset_seed)
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
    keep_train = select_per_class(
        y_train, classes, train_per_class, subset_seed, "train", f"{archive} (training batches)"
    )
    keep_test = select_per_class(
        y_test, classes, test_per_class, subset_seed, "test", f"{archive} ({test_source})"
    )
    if train_per_class is not None:
        x_train, y_train = x_train[keep_train], y_train[keep_train]
    if test_per_class is not None:
        x_test, y_test = x_test[keep_test], y_test[keep_test]
    if image_size is not None:
        x_train, x_test = resize_images(x_train, image_size), resize_images(x_test, image_size)
    subset = subset_record(
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
