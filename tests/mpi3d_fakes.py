# Copyright 2026 The tfp-mvhg authors.
# SPDX-License-Identifier: Apache-2.0
"""The layout of the small MPI3D file of the `fake_mpi3d` fixture (tests/disentanglement_ext/
conftest.py), and how to read back the index written into each image. A module of its own: with
several conftest.py files in the suite, `from conftest import ...` finds whichever came last."""

import numpy as np

FAKE_MPI3D_SIZES = (2, 3, 2, 3, 3, 2, 2)   # 432 images


def encoded_indices(images):
    """Decodes the image index `fake_mpi3d` wrote into pixel (0, 0) of each image in [0, 1]."""
    return np.round(np.asarray(images)[:, 0, 0] * 255.).astype(np.int64) @ np.array([1, 256, 65536])
