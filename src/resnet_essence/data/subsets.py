"""Stratified, seeded per-class subsets of a split, and the record of what was kept.

A loader given ``train_per_class`` or ``test_per_class`` keeps exactly that many images of every
class in the training or the test split, chosen at random but fixed by ``subset_seed``. The
choice depends only on the seed, the split, the class and the split's images in their canonical
order (sorted file names, archive order, or the digits split), never on the order a file system
lists them. For a given seed a smaller subset is contained in a larger one. The kept images stay
in the order of the full split, so the subset is a subsequence of what the loader gives without
it. Subsets are drawn from the split that results from the loader's other options (for CIFAR-10
with ``validation_split=True``, the test subset comes from the 5,000 held-out training images).

A class holding fewer images than asked, or a count below 1, raises :class:`DataError` naming
the config key (``data.train_per_class``, ``data.test_per_class``) and, for the former, every
short class with how many images it holds. :func:`subset_record` is what
:attr:`Dataset.subset` holds, the options and the resulting counts, and :meth:`Dataset.describe`
(the JSON written next to the prepared data) includes it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .dataset import DataError

#: Config keys of the per-class subset sizes, named by every error about them.
SUBSET_KEYS = {"train": "data.train_per_class", "test": "data.test_per_class"}
#: Each split draws its subset from its own random stream, so train and test picks are unrelated.
_SPLIT_STREAMS = {"train": 0, "test": 1}


def check_subset_options(
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


def select_per_class(
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


def subset_record(
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
