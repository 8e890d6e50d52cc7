"""scikit-learn's bundled 8x8 handwritten digits (1,797 images, no download) as a Dataset.

Pixel values 0..16 are scaled to 0..255; the train/test split is stratified by class and fixed
by a seed.
"""

from __future__ import annotations

import numpy as np

from .dataset import DataError, Dataset
from .subsets import check_subset_options, select_per_class, subset_record


def load_digits(
    test_fraction: float,
    seed: int,
    *,
    # The config's subset keys are for cifar10 and imagefolder only (the schema says so), so the
    # pipeline never passes these; without them every image of the split is kept.
    train_per_class: int | None = None,
    test_per_class: int | None = None,
    subset_seed: int = 0,
) -> Dataset:
    """scikit-learn's 8x8 digits, scaled to 0..255, split by class with a fixed seed.

    ``train_per_class``/``test_per_class`` keep that many images of every class of the split
    (chosen with ``subset_seed``, independent of ``seed``; see :mod:`.subsets`).
    """
    from sklearn.datasets import load_digits as sk_load_digits
    from sklearn.model_selection import train_test_split

    if isinstance(test_fraction, bool) or not isinstance(test_fraction, int | float):
        raise DataError(f"digits: test_fraction must be a number in (0, 1), got {test_fraction!r}")
    if not 0.0 < float(test_fraction) < 1.0:
        raise DataError(f"digits: test_fraction must be in (0, 1), got {test_fraction!r}")
    check_subset_options(train_per_class, test_per_class, subset_seed)
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
        select_per_class(
            labels[train_idx], classes, train_per_class, subset_seed, "train", "digits"
        )
    ]
    test_idx = test_idx[
        select_per_class(labels[test_idx], classes, test_per_class, subset_seed, "test", "digits")
    ]
    return Dataset(
        name="digits",
        x_train=images[train_idx],
        y_train=labels[train_idx],
        x_test=images[test_idx],
        y_test=labels[test_idx],
        classes=classes,
        subset=subset_record(
            train_per_class,
            test_per_class,
            subset_seed,
            available,
            {"train": len(train_idx), "test": len(test_idx)},
        ),
    )
