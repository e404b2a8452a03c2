# Copyright 2026 The tfp-mvhg authors.
# SPDX-License-Identifier: Apache-2.0
"""disentanglement_ext tests need disentanglement_lib (the `.venv` stack); skip them elsewhere.
Where it is installed, its compatibility shims are installed here, as a library user does."""
import importlib.util

import numpy as np
import pytest

import disentanglement_ext
from mpi3d_fakes import FAKE_MPI3D_SIZES

collect_ignore_glob = []
if any(importlib.util.find_spec(name) is None for name in ("disentanglement_lib", "gin")):
    collect_ignore_glob = ["test_*.py"]
else:
    disentanglement_ext.install_compat()

@pytest.fixture
def fake_mpi3d(tmp_path, monkeypatch):
    """A small file in MPI3D's format (`mpi3d_toy/mpi3d_toy.npz`, uint8 images [N, 64, 64, 3]) under
    a temporary `$DISENTANGLEMENT_LIB_DATA`, with its layout (`FAKE_MPI3D_SIZES`) known to the
    MPI3D shim; image i has i written in base 256 into pixel (0, 0) and noise elsewhere."""
    from disentanglement_ext import compat  # pylint: disable=import-outside-toplevel
    count = int(np.prod(FAKE_MPI3D_SIZES))
    images = np.random.RandomState(0).randint(0, 256, (count, 64, 64, 3)).astype(np.uint8)
    index = np.arange(count)
    images[:, 0, 0] = np.stack([index % 256, index // 256 % 256, index // 65536], axis=1)
    folder = tmp_path / "dlib_data" / "mpi3d_toy"
    folder.mkdir(parents=True)
    np.savez(folder / "mpi3d_toy.npz", images=images)
    monkeypatch.setitem(compat.MPI3D_LAYOUTS, count, FAKE_MPI3D_SIZES)
    monkeypatch.setenv("DISENTANGLEMENT_LIB_DATA", str(tmp_path / "dlib_data"))
    return folder / "mpi3d_toy.npz"
