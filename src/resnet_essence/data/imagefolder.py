"""An image folder, ``root/{train,test}/{class}/*.png|jpg|jpeg``, as a Dataset.

Classes are the sorted names of the class directories; files are read in sorted name order, so
the arrays never depend on the order a file system lists them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .dataset import DataError, Dataset
from .subsets import check_subset_options, select_per_class, subset_record

IMAGE_EXTENSIONS = frozenset({".png", ".jpg", ".jpeg"})


def load_imagefolder(
    data_root: str | Path,
    image_size: int | None,
    grayscale: bool,
    *,
    train_per_class: int | None,
    test_per_class: int | None,
    subset_seed: int,
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
    check_subset_options(train_per_class, test_per_class, subset_seed)
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
        keep = select_per_class(
            labels, classes, per_class[split], subset_seed, split, str(directory)
        )
        chosen[split] = ([files[i] for i in keep], labels[keep])
        available[split] = len(files)

    reader = _ImageReader(image_size, grayscale)
    arrays: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for split, (files, labels) in chosen.items():
        arrays[split] = (np.stack([reader.read(file) for file in files]), labels)
    subset = subset_record(
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
