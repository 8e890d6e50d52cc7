"""Builders of small fake datasets on disk, shared by the data tests and the workflow tests.

Import with ``tests/`` on ``sys.path`` (pytest puts it there): ``from fixtures_data import ...``.
Nothing here needs network access.

* :func:`write_fake_cifar10_archive` writes a tiny ``cifar-10-python.tar.gz`` in the official
  format and returns its MD5 (pass it as ``md5=`` to ``load_cifar10``).
* :func:`fake_cifar10_arrays` gives the ``(N, 3, 32, 32)`` images and labels that archive holds.
* :func:`write_fake_imagefolder` writes ``root/{train,test}/{class}/img_XXX.png``.
* :func:`fake_image_array` gives the ``(H, W, C)`` pixels of one of those images.
"""

from __future__ import annotations

import hashlib
import io
import pickle
import tarfile
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

CIFAR10_LABEL_NAMES = [
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
]
CIFAR10_DIR = "cifar-10-batches-py"
#: Pixel (row, column) set to 255 in channel ``index % 3`` of every fake CIFAR-10 image; all
#: other pixels hold the image's base value (see :func:`fake_cifar10_arrays`).
CIFAR10_MARKER = (1, 2)


def _cifar10_images(indices: np.ndarray) -> np.ndarray:
    images = np.empty((len(indices), 3, 32, 32), dtype=np.uint8)
    for k, index in enumerate(indices):
        images[k] = index % 200
        images[k, index % 3, CIFAR10_MARKER[0], CIFAR10_MARKER[1]] = 255
    return images


def fake_cifar10_arrays(
    n_train_per_batch: int = 20, n_test: int = 20
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(x_train, y_train, x_test, y_test)`` held by :func:`write_fake_cifar10_archive`.

    Training image ``k`` (in batch order, 0-based over all five batches) is filled with
    ``k % 200`` except for pixel ``CIFAR10_MARKER`` of channel ``k % 3``, which is 255; its label
    is ``k % 10``. Test image ``j`` is built the same way from index ``j + 1000`` and has label
    ``(3 * j + 1) % 10``.
    """
    train_idx = np.arange(5 * n_train_per_batch)
    test_idx = np.arange(n_test) + 1000
    y_train = (train_idx % 10).astype(np.int64)
    y_test = ((3 * np.arange(n_test) + 1) % 10).astype(np.int64)
    return _cifar10_images(train_idx), y_train, _cifar10_images(test_idx), y_test


def _add_member(tar: tarfile.TarFile, name: str, payload: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(payload)
    info.mtime = 0
    tar.addfile(info, io.BytesIO(payload))


def write_fake_cifar10_archive(
    path: str | Path,
    n_train_per_batch: int = 20,
    n_test: int = 20,
    *,
    omit: Iterable[str] = (),
) -> str:
    """Write a small CIFAR-10 python archive at ``path`` (the ``.tar.gz`` file); return its MD5.

    Layout as the official one: ``cifar-10-batches-py/data_batch_1..5``, ``test_batch`` and
    ``batches.meta``, each a pickle with byte-string keys; ``b"data"`` is uint8 ``(N, 3072)``
    with each row the red, green and blue 32x32 planes in turn, row-major. Member base names in
    ``omit`` (e.g. ``"data_batch_3"``) are left out. Contents: :func:`fake_cifar10_arrays`.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    omit = set(omit)
    x_train, y_train, x_test, y_test = fake_cifar10_arrays(n_train_per_batch, n_test)
    members: list[tuple[str, dict]] = []
    for b in range(5):
        rows = slice(b * n_train_per_batch, (b + 1) * n_train_per_batch)
        members.append((f"data_batch_{b + 1}", _cifar10_batch(x_train[rows], y_train[rows], b)))
    members.append(("test_batch", _cifar10_batch(x_test, y_test, None)))
    meta = {
        b"num_cases_per_batch": n_train_per_batch,
        b"label_names": [n.encode() for n in CIFAR10_LABEL_NAMES],
        b"num_vis": 3072,
    }
    members.append(("batches.meta", meta))
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        info = tarfile.TarInfo(CIFAR10_DIR)
        info.type = tarfile.DIRTYPE
        info.mode = 0o755
        tar.addfile(info)
        for name, obj in members:
            if name not in omit:
                _add_member(tar, f"{CIFAR10_DIR}/{name}", pickle.dumps(obj, protocol=2))
        _add_member(tar, f"{CIFAR10_DIR}/readme.html", b"<html>fake</html>")
    data = buffer.getvalue()
    path.write_bytes(data)
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def _cifar10_batch(x: np.ndarray, y: np.ndarray, batch: int | None) -> dict:
    # Flatten explicitly plane by plane, as the official format describes, not via reshape.
    data = np.empty((len(x), 3072), dtype=np.uint8)
    for c in range(3):
        for h in range(32):
            data[:, c * 1024 + h * 32 : c * 1024 + (h + 1) * 32] = x[:, c, h, :]
    label = "testing batch 1 of 1" if batch is None else f"training batch {batch + 1} of 5"
    return {
        b"batch_label": label.encode(),
        b"labels": [int(v) for v in y],
        b"data": data,
        b"filenames": [f"img_{i}.png".encode() for i in range(len(x))],
    }


def fake_image_array(class_index: int, index: int, size: int = 8, channels: int = 3) -> np.ndarray:
    """``(size, size, channels)`` uint8 pixels of image ``index`` of class ``class_index``.

    Channel ``c`` is filled with ``40 * class_index + 10 * index + c`` (mod 256), except that
    pixel (row 1, column 2) is 255 in every channel, so a transposed read is detectable.
    """
    value = (40 * class_index + 10 * index + np.arange(channels)) % 256
    array = np.broadcast_to(value.astype(np.uint8), (size, size, channels)).copy()
    array[1, 2, :] = 255
    return array


def write_fake_imagefolder(
    root: str | Path,
    classes: Sequence[str] = ("cat", "dog", "frog"),
    n_train: int = 3,
    n_test: int = 2,
    size: int = 8,
    grayscale: bool = False,
    ext: str = ".png",
) -> Path:
    """Write ``root/{train,test}/{class}/img_XXX{ext}`` and return ``root``.

    Image ``i`` of class ``classes[c]`` holds :func:`fake_image_array` ``(c, i)`` (train) or
    ``(c, 100 + i)`` (test). Use ``.png`` (lossless) when comparing pixels exactly.
    """
    from PIL import Image

    root = Path(root)
    for split, count, offset in (("train", n_train, 0), ("test", n_test, 100)):
        for c, cls in enumerate(classes):
            directory = root / split / cls
            directory.mkdir(parents=True, exist_ok=True)
            for i in range(count):
                array = fake_image_array(c, offset + i, size, 1 if grayscale else 3)
                image = Image.fromarray(array[:, :, 0] if grayscale else array)
                image.save(directory / f"img_{i:03d}{ext}")
    return root
