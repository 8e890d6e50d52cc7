"""The one place that turns the config's ``data:`` section into the chosen loader's keywords.

The section is validated against ``workflow/schemas/config.schema.yaml`` before any job and
``config.yaml`` sets every key of it, so :class:`DataOptions` has no defaults and the loaders
none for what it sets: no second copy of a value (the CIFAR-10 checksum, the split's seed, ...)
can drift from those two files.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .dataset import DataError

_SUBSET_KEYS = ("train_per_class", "test_per_class", "subset_seed")
#: The ``data:`` keys each loader takes, in the order of its keywords. The schema gives the
#: subset keys to cifar10 and imagefolder only, so digits is never passed them.
_LOADER_KEYS = {
    "digits": ("test_fraction", "split_seed"),
    "cifar10": ("download", "validation_split", "cifar10_md5", "image_size", *_SUBSET_KEYS),
    "imagefolder": ("image_size", "grayscale", *_SUBSET_KEYS),
}
#: Config keys whose loader keyword is shorter: in the config they must say what they are for.
_KEYWORDS = {"split_seed": "seed", "cifar10_md5": "md5"}


@dataclass(frozen=True)
class DataOptions:
    """The config's ``data:`` section, whole (the schema documents each field and its range).

    No field has a default: config.yaml and the schema are the only places a value lives."""

    test_fraction: float
    split_seed: int
    download: bool
    validation_split: bool
    cifar10_md5: str
    image_size: int | None
    grayscale: bool
    train_per_class: int | None
    test_per_class: int | None
    subset_seed: int

    @classmethod
    def from_config(cls, section: dict[str, Any]) -> DataOptions:
        return cls(**section)

    def loader_kwargs(self, dataset: str) -> dict[str, Any]:
        """The keyword arguments of ``dataset``'s loader, ``data_root`` aside."""
        keys = _LOADER_KEYS.get(dataset)
        if keys is None:
            raise DataError(
                f"unknown dataset {dataset!r}; known datasets: {', '.join(sorted(_LOADER_KEYS))}"
            )
        return {_KEYWORDS.get(key, key): getattr(self, key) for key in keys}


def loader_options(section: dict[str, Any], dataset: str) -> dict[str, Any]:
    """The keyword arguments of ``dataset``'s loader from the validated ``data:`` section."""
    return DataOptions.from_config(section).loader_kwargs(dataset)
