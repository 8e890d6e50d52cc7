"""Tests of resnet_essence.data: loaders, checksums, downloads, image folders, save/read."""

from __future__ import annotations

import dataclasses
import importlib.util
import inspect
import io
import json
import os
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from conftest import ROOT, default_config
from fixtures_data import (
    CIFAR10_LABEL_NAMES,
    CIFAR10_MARKER,
    fake_cifar10_arrays,
    fake_image_array,
    write_fake_cifar10_archive,
    write_fake_imagefolder,
)
from PIL import Image

from resnet_essence.data import (
    CIFAR10_ARCHIVE,
    DATASETS,
    DataError,
    DataOptions,
    Dataset,
    cifar10,
    imagefolder,
    load_cifar10,
    load_dataset,
    load_digits,
    load_imagefolder,
    loader_options,
    read_dataset,
    save_dataset,
)

N_PER_BATCH = 20
N_TEST = 20


#: config.yaml's ``data:`` section: what the pipeline gives the loaders unless a config changes it.
DATA_SECTION = default_config()["data"]


def configured(dataset: str, **changes: Any) -> dict[str, Any]:
    """The keywords config.yaml gives ``dataset``'s loader, with ``changes`` laid over them: the
    loaders have no defaults of their own for what the config sets."""
    return {**loader_options(DATA_SECTION, dataset), **changes}


#: The official archive's checksum, config.yaml's ``data.cifar10_md5``: no fake archive has it.
OFFICIAL_MD5 = configured("cifar10")["md5"]

# ----------------------------------------------------------------------------------------- digits


@pytest.fixture(scope="module")
def digits() -> Dataset:
    return load_digits(**configured("digits"))


def test_digits_shapes_dtypes_and_classes(digits):
    assert digits.name == "digits"
    assert digits.x_train.dtype == np.uint8 and digits.x_test.dtype == np.uint8
    assert digits.y_train.dtype == np.int64 and digits.y_test.dtype == np.int64
    assert digits.x_train.shape[1:] == (1, 8, 8) and digits.x_test.shape[1:] == (1, 8, 8)
    assert (digits.channels, digits.image_size, digits.num_classes) == (1, 8, 10)
    assert digits.classes == [str(i) for i in range(10)]
    assert set(np.unique(digits.y_train)) == set(range(10))


def test_digits_pixels_scaled_to_full_range(digits):
    assert digits.x_train.max() == 255 and digits.x_train.min() == 0
    allowed = {round(v * 255 / 16) for v in range(17)}
    assert set(np.unique(digits.x_train)) <= allowed


def test_digits_split_is_a_partition_of_all_1797(digits):
    from sklearn.datasets import load_digits as sk_load_digits

    assert len(digits.x_train) + len(digits.x_test) == 1797
    assert len(digits.x_test) == pytest.approx(0.2 * 1797, abs=1)
    # Train and test together are exactly the full set (as a multiset of image+label rows).
    bunch = sk_load_digits()
    full = np.column_stack([np.round(bunch.data * 255 / 16), bunch.target]).astype(np.int64)
    ours = np.concatenate(
        [
            np.column_stack([d.reshape(len(d), -1), y])
            for d, y in ((digits.x_train, digits.y_train), (digits.x_test, digits.y_test))
        ]
    ).astype(np.int64)
    np.testing.assert_array_equal(np.unique(ours, axis=0), np.unique(full, axis=0))
    assert len(ours) == len(full)


def test_digits_split_is_stratified(digits):
    train = np.bincount(digits.y_train, minlength=10)
    test = np.bincount(digits.y_test, minlength=10)
    np.testing.assert_allclose(test / (train + test), 0.2, atol=0.01)


def test_digits_deterministic_and_seeded(digits):
    again = load_digits(**configured("digits"))
    np.testing.assert_array_equal(again.x_train, digits.x_train)
    np.testing.assert_array_equal(again.y_test, digits.y_test)
    other = load_digits(**configured("digits", seed=1))
    assert not np.array_equal(other.y_train, digits.y_train)
    half = load_digits(**configured("digits", test_fraction=0.5))
    assert abs(len(half.x_test) - len(half.x_train)) <= 1


@pytest.mark.parametrize("fraction", [0, 1, 1.0, -0.1, 1.5, "0.2", None, True])
def test_digits_bad_test_fraction(fraction):
    with pytest.raises(DataError, match="test_fraction"):
        load_digits(**configured("digits", test_fraction=fraction))


def test_digits_fraction_too_small_for_stratification():
    with pytest.raises(DataError, match="test_fraction"):
        load_digits(**configured("digits", test_fraction=0.001))


def test_channel_mean_std(digits):
    scaled = digits.x_train.astype(np.float64) / 255
    assert digits.mean == pytest.approx((scaled.mean(),))
    assert digits.std == pytest.approx((scaled.std(ddof=1),))  # what training divides by
    x = np.zeros((2, 3, 2, 2), dtype=np.uint8)
    x[1, 0] = 255
    x[:, 1] = 51
    ds = Dataset("toy", x, np.array([0, 1]), x, np.array([1, 0]), ["a", "b"])
    assert ds.mean == pytest.approx((0.5, 0.2, 0.0))
    assert ds.std == pytest.approx((np.sqrt(2 / 7), 0.0, 0.0))  # n - 1: 8 pixels
    summary = ds.describe()
    assert summary["train_class_counts"] == [1, 1]
    assert summary["image_shape"] == [3, 2, 2]


def test_dataset_rejects_inconsistent_arrays():
    x = np.zeros((2, 1, 4, 4), dtype=np.uint8)
    y = np.array([0, 1])
    with pytest.raises(DataError, match="uint8"):
        Dataset("bad", x.astype(np.float32), y, x, y, ["a", "b"])
    with pytest.raises(DataError, match="labels"):
        Dataset("bad", x, np.array([0]), x, y, ["a", "b"])
    with pytest.raises(DataError, match="outside"):
        Dataset("bad", x, np.array([0, 2]), x, y, ["a", "b"])
    with pytest.raises(DataError, match="test images"):
        Dataset("bad", x, y, np.zeros((2, 1, 5, 5), dtype=np.uint8), y, ["a", "b"])


# --------------------------------------------------------------------------------------- CIFAR-10


@pytest.fixture
def cifar_root(tmp_path) -> tuple[Path, str]:
    root = tmp_path / "cifar"
    md5 = write_fake_cifar10_archive(root / CIFAR10_ARCHIVE, N_PER_BATCH, N_TEST)
    return root, md5


def test_cifar10_official_split_layout_and_labels(cifar_root):
    root, md5 = cifar_root
    ds = load_cifar10(root, **configured("cifar10", download=False, md5=md5))
    assert ds.name == "cifar10"
    assert ds.classes == CIFAR10_LABEL_NAMES
    assert ds.x_train.shape == (5 * N_PER_BATCH, 3, 32, 32) and ds.x_train.dtype == np.uint8
    assert ds.x_test.shape == (N_TEST, 3, 32, 32)
    assert ds.y_train.dtype == np.int64
    # The marker (255) sits at channel k % 3, row 1, column 2 of image k; all else is k % 200.
    row, col = CIFAR10_MARKER
    for k in (0, 1, 2, N_PER_BATCH + 4, 5 * N_PER_BATCH - 1):  # spans batches 1, 2 and 5
        c = k % 3
        assert ds.x_train[k, c, row, col] == 255
        assert ds.x_train[k, (c + 1) % 3, row, col] == k % 200
        assert ds.x_train[k, c, col, row] == k % 200  # not transposed
        assert (ds.x_train[k] == 255).sum() == 1
    np.testing.assert_array_equal(ds.y_train, np.arange(5 * N_PER_BATCH) % 10)
    np.testing.assert_array_equal(ds.y_test, (3 * np.arange(N_TEST) + 1) % 10)
    x_train, y_train, x_test, y_test = fake_cifar10_arrays(N_PER_BATCH, N_TEST)
    np.testing.assert_array_equal(ds.x_train, x_train)
    np.testing.assert_array_equal(ds.x_test, x_test)
    assert ds.x_test[3, 1, row, col] == 255 and ds.x_test[3, 2, row, col] == 1003 % 200


def test_cifar10_resized_as_the_image_folder_path_resizes_a_file(cifar_root, tmp_path):
    from PIL import Image

    root, md5 = cifar_root
    options = configured("cifar10", download=False, md5=md5, image_size=16, train_per_class=2)
    ds = load_cifar10(root, **options)
    assert ds.x_train.shape == (20, 3, 16, 16) and ds.x_test.shape == (N_TEST, 3, 16, 16)
    assert ds.x_train.dtype == np.uint8
    full = load_cifar10(root, **configured("cifar10", download=False, md5=md5, train_per_class=2))
    np.testing.assert_array_equal(ds.y_train, full.y_train)
    # the same image written as a PNG and read by the image-folder path gives the same pixels
    folder = tmp_path / "one"
    for split, image in (("train", full.x_train[3]), ("test", full.x_test[0])):
        (folder / split / "c").mkdir(parents=True)
        Image.fromarray(image.transpose(1, 2, 0)).save(folder / split / "c" / "0.png")
    read = load_imagefolder(folder, **configured("imagefolder", image_size=16))
    np.testing.assert_array_equal(ds.x_train[3], read.x_train[0])
    assert not np.array_equal(ds.x_train[3], full.x_train[3][:, ::2, ::2])  # not a subsampling


def test_cifar10_validation_split_holds_out_last_tenth_of_train(cifar_root):
    root, md5 = cifar_root
    ds = load_cifar10(root, **configured("cifar10", download=False, md5=md5, validation_split=True))
    x_train, y_train, _, _ = fake_cifar10_arrays(N_PER_BATCH, N_TEST)
    n = 5 * N_PER_BATCH
    assert (len(ds.x_train), len(ds.x_test)) == (n * 9 // 10, n // 10)  # 45k/5k proportions
    np.testing.assert_array_equal(ds.x_train, x_train[: n * 9 // 10])
    np.testing.assert_array_equal(ds.x_test, x_train[n * 9 // 10 :])
    np.testing.assert_array_equal(ds.y_test, y_train[n * 9 // 10 :])
    assert ds.classes == CIFAR10_LABEL_NAMES


def test_cifar10_wrong_md5_names_both_checksums_and_file(cifar_root):
    root, md5 = cifar_root
    expected = "0123456789abcdef0123456789abcdef"
    with pytest.raises(DataError) as info:
        load_cifar10(root, **configured("cifar10", download=False, md5=expected))
    message = str(info.value)
    assert expected in message and md5 in message and CIFAR10_ARCHIVE in message
    # With the configured (official) checksum the fake archive is rejected too.
    with pytest.raises(DataError, match=OFFICIAL_MD5):
        load_cifar10(root, **configured("cifar10", download=False))


@pytest.mark.parametrize("member", ["data_batch_3", "test_batch", "batches.meta"])
def test_cifar10_missing_member(tmp_path, member):
    md5 = write_fake_cifar10_archive(tmp_path / CIFAR10_ARCHIVE, 2, 2, omit=[member])
    with pytest.raises(DataError, match=f"cifar-10-batches-py/{member}"):
        load_cifar10(tmp_path, **configured("cifar10", download=False, md5=md5))


def test_cifar10_not_a_tarball(tmp_path):
    (tmp_path / CIFAR10_ARCHIVE).write_bytes(b"this is not gzip")
    with pytest.raises(DataError, match="not a readable tar.gz"):
        load_cifar10(tmp_path, **configured("cifar10", download=False, md5=None))


def test_cifar10_missing_without_download(tmp_path):
    with pytest.raises(DataError) as info:
        load_cifar10(tmp_path, **configured("cifar10", download=False))
    assert str(tmp_path / CIFAR10_ARCHIVE) in str(info.value)
    assert "download=False" in str(info.value)


def test_cifar10_download_unreachable_leaves_nothing(tmp_path, monkeypatch):
    for var in ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setattr(cifar10, "CIFAR10_URL", "http://127.0.0.1:9/nothing")
    monkeypatch.setattr(cifar10, "DOWNLOAD_TIMEOUT_S", 5.0)
    root = tmp_path / "root"
    root.mkdir()
    with pytest.raises(DataError) as info:
        load_cifar10(root, **configured("cifar10"))
    message = str(info.value)
    assert str(root / CIFAR10_ARCHIVE) in message
    assert "127.0.0.1:9" in message and "failed" in message
    assert "by hand" in message or "place it" in message
    assert os.listdir(root) == []


def test_cifar10_download_error_reason_reported(tmp_path, monkeypatch):
    def refuse(*args, **kwargs):
        raise urllib.error.URLError("no network here")

    monkeypatch.setattr(urllib.request, "urlopen", refuse)
    with pytest.raises(DataError, match="no network here"):
        load_cifar10(tmp_path, **configured("cifar10"))
    assert os.listdir(tmp_path) == []


def test_cifar10_download_interrupted_leaves_nothing(tmp_path, monkeypatch):
    class Broken(io.BytesIO):
        def read(self, size=-1):
            if self.tell() > 0:
                raise ConnectionResetError("connection reset mid-way")
            return super().read(10)

    monkeypatch.setattr(urllib.request, "urlopen", lambda *a, **k: Broken(b"x" * 100))
    with pytest.raises(DataError, match="connection reset mid-way"):
        load_cifar10(tmp_path, **configured("cifar10"))
    assert os.listdir(tmp_path) == []


def test_cifar10_download_success_and_bad_checksum(tmp_path, monkeypatch):
    source = tmp_path / "source.tar.gz"
    md5 = write_fake_cifar10_archive(source, 2, 3)
    payload = source.read_bytes()
    monkeypatch.setattr(urllib.request, "urlopen", lambda *a, **k: io.BytesIO(payload))
    root = tmp_path / "root"
    ds = load_cifar10(root, **configured("cifar10", md5=md5))
    assert (len(ds.x_train), len(ds.x_test)) == (10, 3)
    assert os.listdir(root) == [CIFAR10_ARCHIVE]
    assert (root / CIFAR10_ARCHIVE).read_bytes() == payload

    bad_root = tmp_path / "bad"
    with pytest.raises(DataError) as info:
        # the configured, official checksum: the payload does not match
        load_cifar10(bad_root, **configured("cifar10"))
    assert OFFICIAL_MD5 in str(info.value) and md5 in str(info.value)
    assert os.listdir(bad_root) == []


# ------------------------------------------------------------------------------------ imagefolder


def test_imagefolder_happy_path(tmp_path):
    root = write_fake_imagefolder(tmp_path / "imgs", classes=("zebra", "cat"), n_train=3, n_test=2)
    (root / "train" / "cat" / "notes.txt").write_text("not an image")
    ds = load_imagefolder(root, **configured("imagefolder"))
    assert ds.name == "imagefolder"
    assert ds.classes == ["cat", "zebra"]  # sorted, not in creation order
    assert ds.x_train.shape == (6, 3, 8, 8) and ds.x_train.dtype == np.uint8
    assert ds.x_test.shape == (4, 3, 8, 8)
    np.testing.assert_array_equal(ds.y_train, [0, 0, 0, 1, 1, 1])
    np.testing.assert_array_equal(ds.y_test, [0, 0, 1, 1])
    # "cat" was written as class index 1, "zebra" as 0; files read in sorted order.
    np.testing.assert_array_equal(ds.x_train[1], fake_image_array(1, 1).transpose(2, 0, 1))
    np.testing.assert_array_equal(ds.x_train[5], fake_image_array(0, 2).transpose(2, 0, 1))
    np.testing.assert_array_equal(ds.x_test[3], fake_image_array(0, 101).transpose(2, 0, 1))
    assert ds.x_train[0, 0, 1, 2] == 255 and ds.x_train[0, 0, 2, 1] != 255
    again = load_imagefolder(root, **configured("imagefolder"))
    np.testing.assert_array_equal(again.x_train, ds.x_train)


def test_imagefolder_grayscale_and_extensions(tmp_path):
    root = write_fake_imagefolder(tmp_path / "g", ("a", "b"), 2, 1, size=6, grayscale=True)
    Image.fromarray(fake_image_array(0, 7, 6, 1)[:, :, 0]).save(root / "train" / "a" / "z.JPEG")
    ds = load_imagefolder(root, **configured("imagefolder", grayscale=True))
    assert ds.x_train.shape == (5, 1, 6, 6) and ds.channels == 1
    np.testing.assert_array_equal(ds.x_train[0, 0], fake_image_array(0, 0, 6, 1)[:, :, 0])
    rgb = load_imagefolder(root, **configured("imagefolder"))
    assert rgb.x_train.shape == (5, 3, 6, 6)
    np.testing.assert_array_equal(rgb.x_train[1, 0], rgb.x_train[1, 2])  # gray to RGB


def test_imagefolder_resizes_when_image_size_given(tmp_path):
    root = write_fake_imagefolder(tmp_path / "r", ("a", "b"), 2, 1, size=8)
    Image.new("RGB", (12, 5), (9, 9, 9)).save(root / "test" / "b" / "odd.png")
    with pytest.raises(DataError, match="odd.png"):
        load_imagefolder(root, **configured("imagefolder"))
    ds = load_imagefolder(root, **configured("imagefolder", image_size=4))
    assert ds.x_train.shape == (4, 3, 4, 4) and ds.x_test.shape == (3, 3, 4, 4)
    assert ds.image_size == 4


@pytest.mark.parametrize("split", ["train", "test"])
def test_imagefolder_missing_split_dir(tmp_path, split):
    root = write_fake_imagefolder(tmp_path / "m", ("a", "b"), 1, 1)
    for file in (root / split).rglob("*.png"):
        file.unlink()
    for directory in sorted((root / split).rglob("*"), reverse=True):
        directory.rmdir()
    (root / split).rmdir()
    with pytest.raises(DataError, match=f"{split} directory .*{split}"):
        load_imagefolder(root, **configured("imagefolder"))


@pytest.mark.parametrize("split, other", [("train", "test"), ("test", "train")])
def test_imagefolder_class_only_in_one_split(tmp_path, split, other):
    root = write_fake_imagefolder(tmp_path / "c", ("a", "b"), 1, 1)
    extra = root / split / "extra"
    extra.mkdir()
    Image.fromarray(fake_image_array(0, 0)).save(extra / "x.png")
    with pytest.raises(DataError, match=f"'extra'.*missing from .*{other}"):
        load_imagefolder(root, **configured("imagefolder"))


def test_imagefolder_empty_class_dir(tmp_path):
    root = write_fake_imagefolder(tmp_path / "e", ("a", "b"), 1, 1)
    for file in (root / "test" / "b").iterdir():
        file.unlink()
    (root / "test" / "b" / "readme.txt").write_text("no images here")
    with pytest.raises(DataError, match=r"test/b holds no"):
        load_imagefolder(root, **configured("imagefolder"))


def test_imagefolder_no_classes(tmp_path):
    (tmp_path / "train").mkdir()
    (tmp_path / "test").mkdir()
    with pytest.raises(DataError, match="no class directories"):
        load_imagefolder(tmp_path, **configured("imagefolder"))


def test_imagefolder_unreadable_image(tmp_path):
    root = write_fake_imagefolder(tmp_path / "u", ("a", "b"), 2, 1)
    (root / "train" / "b" / "broken.png").write_bytes(b"not a png at all")
    with pytest.raises(DataError, match="cannot read image .*broken.png"):
        load_imagefolder(root, **configured("imagefolder"))


@pytest.mark.parametrize("size", [0, -3, 2.5, True])
def test_imagefolder_bad_image_size(tmp_path, size):
    root = write_fake_imagefolder(tmp_path / "s", ("a",), 1, 1)
    with pytest.raises(DataError, match="image_size"):
        load_imagefolder(root, **configured("imagefolder", image_size=size))


# ------------------------------------------------------------------------------ per-class subsets


def _positions(subset_x, subset_y, full_x, full_y) -> list[int]:
    """Where each (image, label) of a subset sits in the full split (each must match once)."""
    found = []
    for x, y in zip(subset_x, subset_y, strict=True):
        hits = np.flatnonzero((full_x == x).all(axis=(1, 2, 3)) & (full_y == y))
        assert len(hits) == 1
        found.append(int(hits[0]))
    return found


@pytest.fixture(scope="module")
def subset_folder(tmp_path_factory) -> Path:
    """Three classes, 6 train and 4 test images each."""
    root = tmp_path_factory.mktemp("subset") / "imgs"
    return write_fake_imagefolder(root, ("frog", "cat", "dog"), n_train=6, n_test=4)


def test_imagefolder_subset_balanced_seeded_and_in_full_order(subset_folder):
    full = load_imagefolder(subset_folder, **configured("imagefolder"))
    options = configured("imagefolder", train_per_class=2, test_per_class=3, subset_seed=7)
    ds = load_imagefolder(subset_folder, **options)
    np.testing.assert_array_equal(np.bincount(ds.y_train), [2, 2, 2])
    np.testing.assert_array_equal(np.bincount(ds.y_test), [3, 3, 3])
    picked = _positions(ds.x_train, ds.y_train, full.x_train, full.y_train)
    assert picked == sorted(picked)  # by class, then file name: a subsequence of the full split
    picked_test = _positions(ds.x_test, ds.y_test, full.x_test, full.y_test)
    assert picked_test == sorted(picked_test)

    again = load_imagefolder(subset_folder, **options)
    np.testing.assert_array_equal(again.x_train, ds.x_train)
    np.testing.assert_array_equal(again.x_test, ds.x_test)
    other = load_imagefolder(subset_folder, **{**options, "subset_seed": 8})
    assert _positions(other.x_train, other.y_train, full.x_train, full.y_train) != picked
    # For one seed a smaller subset is part of a larger one.
    larger = load_imagefolder(
        subset_folder, **configured("imagefolder", train_per_class=4, subset_seed=7)
    )
    bigger = _positions(larger.x_train, larger.y_train, full.x_train, full.y_train)
    assert set(picked) < set(bigger)
    assert len(larger.x_test) == len(full.x_test)  # test_per_class=None keeps the whole split


def test_imagefolder_subset_ignores_listing_order(subset_folder, monkeypatch):
    options = configured("imagefolder", train_per_class=3, test_per_class=2, subset_seed=1)
    ds = load_imagefolder(subset_folder, **options)
    original = Path.iterdir
    monkeypatch.setattr(Path, "iterdir", lambda self: iter(sorted(original(self), reverse=True)))
    shuffled = load_imagefolder(subset_folder, **options)
    np.testing.assert_array_equal(shuffled.x_train, ds.x_train)
    np.testing.assert_array_equal(shuffled.x_test, ds.x_test)
    np.testing.assert_array_equal(shuffled.y_train, ds.y_train)


def test_imagefolder_subset_decodes_only_chosen_files(subset_folder, monkeypatch):
    read = []
    original = imagefolder._ImageReader.read

    def counting(self, file):
        read.append(file)
        return original(self, file)

    monkeypatch.setattr(imagefolder._ImageReader, "read", counting)
    load_imagefolder(
        subset_folder, **configured("imagefolder", train_per_class=1, test_per_class=2)
    )
    assert len(read) == 3 * 1 + 3 * 2
    read.clear()
    with pytest.raises(DataError, match="data.test_per_class"):
        load_imagefolder(
            subset_folder, **configured("imagefolder", train_per_class=1, test_per_class=5)
        )
    assert read == []  # both splits are checked before any image is decoded


@pytest.mark.parametrize("value", [0, -2, True, 2.5, "3"])
@pytest.mark.parametrize("split", ["train", "test"])
def test_subset_refuses_bad_counts_by_key(subset_folder, cifar_root, split, value):
    key = f"data.{split}_per_class"
    with pytest.raises(DataError, match=key) as info:
        load_imagefolder(
            subset_folder, **configured("imagefolder", **{f"{split}_per_class": value})
        )
    assert repr(value) in str(info.value)
    root, md5 = cifar_root
    with pytest.raises(DataError, match=key):
        load_cifar10(
            root, **configured("cifar10", download=False, md5=md5, **{f"{split}_per_class": value})
        )


@pytest.mark.parametrize("seed", [-1, 1.5, None, True])
def test_subset_refuses_bad_seed(subset_folder, seed):
    with pytest.raises(DataError, match="data.subset_seed"):
        load_imagefolder(
            subset_folder, **configured("imagefolder", train_per_class=1, subset_seed=seed)
        )


def test_imagefolder_subset_too_many_names_the_short_class(tmp_path):
    root = write_fake_imagefolder(tmp_path / "short", ("ant", "bee", "cow"), n_train=4, n_test=2)
    (root / "train" / "bee" / "img_000.png").unlink()
    (root / "test" / "cow" / "img_001.png").unlink()
    fits = load_imagefolder(root, **configured("imagefolder", train_per_class=3, test_per_class=1))
    assert len(fits.x_train) == 9
    with pytest.raises(DataError) as info:
        load_imagefolder(root, **configured("imagefolder", train_per_class=4))
    message = str(info.value)
    assert "data.train_per_class=4" in message and "'bee' holds 3" in message
    assert "'ant'" not in message and str(root / "train") in message
    with pytest.raises(DataError, match=r"data.test_per_class=2 .*'cow' holds 1"):
        load_imagefolder(root, **configured("imagefolder", test_per_class=2))


def test_cifar10_subset_balanced_seeded_in_archive_order(cifar_root):
    root, md5 = cifar_root  # 10 train and 2 test images per class
    options = configured("cifar10", download=False, md5=md5, train_per_class=3, test_per_class=1)
    ds = load_cifar10(root, **options)
    # The fake images' base pixel value is their archive index (train k, test 1000 + j).
    train_idx = ds.x_train[:, 0, 0, 0].astype(int)
    test_idx = ds.x_test[:, 0, 0, 0].astype(int)
    np.testing.assert_array_equal(np.bincount(ds.y_train), [3] * 10)
    np.testing.assert_array_equal(np.bincount(ds.y_test), [1] * 10)
    assert list(train_idx) == sorted(set(train_idx))  # distinct, in archive order
    x_train, y_train, x_test, y_test = fake_cifar10_arrays(N_PER_BATCH, N_TEST)
    np.testing.assert_array_equal(ds.x_train, x_train[train_idx])
    np.testing.assert_array_equal(ds.y_test, y_test[test_idx])

    again = load_cifar10(root, **options)
    np.testing.assert_array_equal(again.x_train, ds.x_train)
    np.testing.assert_array_equal(again.x_test, ds.x_test)
    other = load_cifar10(root, **{**options, "subset_seed": 1})
    assert not np.array_equal(other.x_train[:, 0, 0, 0], train_idx)
    assert ds.subset == {
        "train_per_class": 3,
        "test_per_class": 1,
        "subset_seed": 0,
        "n_train_available": 5 * N_PER_BATCH,
        "n_test_available": N_TEST,
        "n_train": 30,
        "n_test": 10,
    }
    with pytest.raises(DataError, match=r"data.train_per_class=11 .*'airplane' holds 10"):
        load_cifar10(root, **configured("cifar10", download=False, md5=md5, train_per_class=11))


def test_cifar10_subset_drawn_from_validation_split(cifar_root):
    root, md5 = cifar_root  # validation split: first 90 train images, last 10 held out
    options = configured("cifar10", download=False, md5=md5, validation_split=True)
    ds = load_cifar10(root, **{**options, "train_per_class": 4, "test_per_class": 1})
    train_idx = ds.x_train[:, 0, 0, 0].astype(int)
    test_idx = ds.x_test[:, 0, 0, 0].astype(int)
    assert len(train_idx) == 40 and train_idx.max() < 90
    np.testing.assert_array_equal(test_idx, np.arange(90, 100))  # the held-out images
    assert (ds.subset["n_train_available"], ds.subset["n_test_available"]) == (90, 10)
    with pytest.raises(DataError) as info:
        load_cifar10(root, **{**options, "test_per_class": 2})
    message = str(info.value)
    assert "data.test_per_class=2" in message and "'airplane' holds 1" in message
    assert "validation" in message


def test_digits_subset(digits):
    ds = load_digits(**configured("digits", train_per_class=5, test_per_class=3, subset_seed=2))
    np.testing.assert_array_equal(np.bincount(ds.y_train), [5] * 10)
    np.testing.assert_array_equal(np.bincount(ds.y_test), [3] * 10)
    again = load_dataset(
        "digits", **configured("digits", train_per_class=5, test_per_class=3, subset_seed=2)
    )
    np.testing.assert_array_equal(again.x_train, ds.x_train)
    other = load_digits(**configured("digits", train_per_class=5, test_per_class=3, subset_seed=3))
    assert not np.array_equal(other.x_train, ds.x_train)
    assert ds.subset["n_train_available"] == len(digits.x_train)
    assert digits.subset["train_per_class"] is None and digits.subset["subset_seed"] == 0


def _prepare_script():
    spec = importlib.util.spec_from_file_location(
        "prepare_data_script", ROOT / "scripts" / "prepare_data.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_prepared_json_records_the_subset(tmp_path, subset_folder, cifar_root):
    prepare = _prepare_script().prepare
    chosen = {"train_per_class": 2, "test_per_class": 1, "subset_seed": 4}
    options = loader_options({**DATA_SECTION, **chosen}, "imagefolder")  # as the rule does
    prepare("imagefolder", str(subset_folder), options, tmp_path / "i.npz", tmp_path / "i.json")
    info = json.loads((tmp_path / "i.json").read_text())
    assert info["subset"] == {
        **chosen,
        "n_train_available": 18,
        "n_test_available": 12,
        "n_train": 6,
        "n_test": 3,
    }
    assert info["train_class_counts"] == [2, 2, 2] and info["test_class_counts"] == [1, 1, 1]
    assert (info["n_train"], info["n_test"]) == (6, 3)
    assert len(read_dataset(tmp_path / "i.npz").x_train) == 6

    root, md5 = cifar_root
    options = configured("cifar10", download=False, md5=md5, test_per_class=2)
    prepare("cifar10", str(root), options, tmp_path / "c.npz", tmp_path / "c.json")
    subset = json.loads((tmp_path / "c.json").read_text())["subset"]
    assert subset["train_per_class"] is None and subset["test_per_class"] == 2
    assert (subset["subset_seed"], subset["n_train"], subset["n_test"]) == (0, 100, 20)


# ------------------------------------------------------------------------------------- dispatcher


def test_load_dataset_dispatch(tmp_path, cifar_root, digits):
    ds = load_dataset("digits", test_fraction=0.2, seed=0)
    np.testing.assert_array_equal(ds.x_test, digits.x_test)
    root, md5 = cifar_root
    options = configured("cifar10", md5=md5, download=False)
    assert load_dataset("cifar10", root, **options).num_classes == 10
    folder = write_fake_imagefolder(tmp_path / "f", ("a", "b"), 1, 1)
    options = configured("imagefolder", image_size=4)
    assert load_dataset("imagefolder", folder, **options).image_size == 4
    options = configured("imagefolder", train_per_class=1, subset_seed=3)
    subset = load_dataset("imagefolder", folder, **options).subset
    assert subset["train_per_class"] == 1 and subset["subset_seed"] == 3


def test_load_dataset_errors(cifar_root):
    with pytest.raises(DataError) as info:
        load_dataset("mnist")
    assert all(name in str(info.value) for name in ("mnist", "digits", "cifar10", "imagefolder"))
    with pytest.raises(DataError, match="data_root"):
        load_dataset("cifar10")
    with pytest.raises(DataError, match="bad options.*colour"):
        load_dataset("digits", **configured("digits"), colour=True)
    # the loaders take from the config what it sets, with no defaults of their own
    with pytest.raises(DataError, match=r"bad options \['download'\].*missing a required"):
        load_dataset("cifar10", cifar_root[0], download=False)


# ----------------------------------------------------------------------------- config options


@pytest.mark.parametrize("dataset", sorted(DATASETS))
def test_loader_options_from_config_yaml(dataset):
    with open(ROOT / "config.yaml", encoding="utf-8") as fh:
        section = yaml.safe_load(fh)["data"]
    subset = {key: section[key] for key in ("train_per_class", "test_per_class", "subset_seed")}
    expected = {
        "digits": {"test_fraction": section["test_fraction"], "seed": section["split_seed"]},
        "cifar10": {
            "download": section["download"],
            "validation_split": section["validation_split"],
            "md5": section["cifar10_md5"],
            "image_size": section["image_size"],
            **subset,
        },
        "imagefolder": {
            "image_size": section["image_size"],
            "grayscale": section["grayscale"],
            **subset,
        },
    }[dataset]
    options = loader_options(section, dataset)
    # the same keys in the same order: Snakemake records the rule's params, and a change in them
    # would make it prepare the data again
    assert list(options.items()) == list(expected.items())
    assert DataOptions.from_config(section).loader_kwargs(dataset) == options
    # the config sets exactly what the loader needs: the parameters it has no default for
    parameters = inspect.signature(DATASETS[dataset]).parameters
    required = {
        name
        for name, parameter in parameters.items()
        if parameter.default is inspect.Parameter.empty and name != "data_root"
    }
    assert set(options) == required


def test_data_options_hold_the_whole_section_and_nothing_else():
    schema = yaml.safe_load((ROOT / "workflow/schemas/config.schema.yaml").read_text())
    keys = schema["properties"]["data"]["properties"]
    assert [field.name for field in dataclasses.fields(DataOptions)] == list(keys)
    options = DataOptions.from_config(DATA_SECTION)
    assert dataclasses.asdict(options) == DATA_SECTION
    with pytest.raises(dataclasses.FrozenInstanceError):
        options.subset_seed = 1
    with pytest.raises(TypeError, match="cifar10_md5"):
        DataOptions.from_config({k: v for k, v in DATA_SECTION.items() if k != "cifar10_md5"})
    changed = loader_options({**DATA_SECTION, "subset_seed": 5, "grayscale": True}, "imagefolder")
    assert (changed["subset_seed"], changed["grayscale"]) == (5, True)
    with pytest.raises(DataError, match="unknown dataset 'mnist'.*cifar10, digits, imagefolder"):
        loader_options(DATA_SECTION, "mnist")


# ------------------------------------------------------------------------------------ save & read


def _assert_same(a: Dataset, b: Dataset) -> None:
    assert (a.name, a.classes) == (b.name, b.classes)
    for key in ("x_train", "y_train", "x_test", "y_test"):
        left, right = getattr(a, key), getattr(b, key)
        assert left.dtype == right.dtype
        np.testing.assert_array_equal(left, right)


def test_save_read_round_trip(tmp_path, digits):
    path = tmp_path / "out" / "digits.npz"
    save_dataset(digits, path)
    assert os.listdir(path.parent) == ["digits.npz"]  # no temporary file left behind
    back = read_dataset(path)
    _assert_same(back, digits)
    assert back.mean == pytest.approx(digits.mean)
    folder = write_fake_imagefolder(tmp_path / "f", ("dog", "cat"), 2, 1)
    images = load_imagefolder(folder, **configured("imagefolder"))
    save_dataset(images, tmp_path / "images.data")  # the exact name is kept, no ".npz" added
    _assert_same(read_dataset(tmp_path / "images.data"), images)


def test_save_is_atomic_on_failure(tmp_path, digits, monkeypatch):
    path = tmp_path / "d.npz"

    def explode(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(np, "savez", explode)
    with pytest.raises(RuntimeError):
        save_dataset(digits, path)
    assert os.listdir(tmp_path) == []


def test_read_missing_or_corrupt(tmp_path, digits):
    missing = tmp_path / "nope.npz"
    with pytest.raises(DataError, match="nope.npz"):
        read_dataset(missing)
    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(b"\x00" * 100)
    with pytest.raises(DataError, match="garbage.npz"):
        read_dataset(garbage)
    good = tmp_path / "good.npz"
    save_dataset(digits, good)
    truncated = tmp_path / "truncated.npz"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(DataError, match="truncated.npz"):
        read_dataset(truncated)
    partial = tmp_path / "partial.npz"
    np.savez(partial, x_train=digits.x_train)
    with pytest.raises(DataError, match="partial.npz lacks key.*y_train"):
        read_dataset(partial)
