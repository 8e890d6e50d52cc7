"""The in-memory form every loader returns, and the error every problem with the inputs raises.

A :class:`Dataset` holds ``uint8`` images laid out ``(N, C, H, W)`` and ``int64`` labels and
checks on construction that they agree. :class:`DataError` is raised for a missing file, a bad
checksum, an unreadable image, an inconsistent folder layout or an unknown option; its message
names the file, key or checksum involved.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np


def resize_images(images: np.ndarray, size: int) -> np.ndarray:
    """``uint8`` images ``(N, C, H, W)`` resized to ``size`` squared, bilinear (Pillow's, as the
    image-folder path resizes each file it reads)."""
    from PIL import Image

    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise DataError(f"image_size must be a positive integer, got {size!r}")
    out = np.empty((len(images), images.shape[1], size, size), dtype=np.uint8)
    for i, image in enumerate(images):
        for c, channel in enumerate(image):
            resized = Image.fromarray(channel).resize((size, size), Image.Resampling.BILINEAR)
            out[i, c] = np.asarray(resized, dtype=np.uint8)
    return out


class DataError(ValueError):
    """Bad input data or options; the message names the file, key or checksum at fault."""


@dataclass(eq=False)
class Dataset:
    """Images as ``uint8`` ``(N, C, H, W)`` arrays with ``int64`` labels indexing ``classes``.

    ``subset`` records the per-class subset options a loader was given and the counts that
    resulted (see :func:`.subsets.subset_record`); ``None`` when the dataset was not made by a
    loader. It is not stored by :func:`.npz.save_dataset`.
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
