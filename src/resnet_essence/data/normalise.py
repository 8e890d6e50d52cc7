"""Input normalisation: uint8 images to centred, scaled floats with the training set's
statistics, for training (the trainer) and for measuring (gradstats, the width sweep)."""

from __future__ import annotations

import torch


class Normaliser:
    """uint8 images -> float, centred and scaled per channel with the training set's statistics."""

    def __init__(self, mean: torch.Tensor, std: torch.Tensor) -> None:
        self.mean = mean.view(1, -1, 1, 1)
        self.std = std.view(1, -1, 1, 1)

    @classmethod
    def fit(cls, x_uint8: torch.Tensor) -> Normaliser:
        x = x_uint8.float() / 255.0
        return cls(x.mean(dim=(0, 2, 3)), x.std(dim=(0, 2, 3)).clamp_min(1e-3))

    def __call__(self, x_uint8: torch.Tensor) -> torch.Tensor:
        return (x_uint8.float() / 255.0 - self.mean) / self.std


def normalised_test_batch(data, n: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The first ``n`` test images, normalised with the training set's statistics, and their
    labels: the fixed batch the statistics and probes are measured on."""
    normalise = Normaliser.fit(torch.from_numpy(data.x_train))
    return normalise(torch.from_numpy(data.x_test[:n])), torch.from_numpy(data.y_test[:n])


def normalised_train_batch(data, n: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The first ``n`` training images, normalised and not augmented, and their labels: what
    the class-evidence probe fits its linear classifiers on (probes.class_evidence)."""
    normalise = Normaliser.fit(torch.from_numpy(data.x_train))
    return normalise(torch.from_numpy(data.x_train[:n])), torch.from_numpy(data.y_train[:n])
