# Copyright 2026 The tfp-mvhg authors.
# SPDX-License-Identifier: Apache-2.0
"""disentanglement_ext: weakly-supervised HGVAE parts on top of disentanglement_lib 1.5.

Importing this package is cheap (no TensorFlow) and changes nothing outside it.
disentanglement_lib 1.5 needs runtime shims on TF 2.15, gin-config 0.5 and imageio >= 2.28
(`disentanglement_ext.compat`); they also make `dataset.name = "procedural_mpi3d_toy"` and
`"vector_mpi3d_toy"` selectable through disentanglement_lib's `named_data`. They are applied
explicitly, by `install_compat()`, before anything imports disentanglement_lib:

    import disentanglement_ext
    disentanglement_ext.install_compat()
    from disentanglement_ext import weak_training   # or any disentanglement_lib module

The commands (`mvhg_train_weak`, `mvhg_sweep`, `mvhg_dlib`) call it themselves. The modules here
that use disentanglement_lib (`group_vae`, `weak_training`, `evaluation`) raise an ImportError
that says so when they are imported without it.

Modules:
  compat: the shims, one function each (`compat.install()` is `install_compat()`).
  registry: extra `dataset.name` values (`register_dataset`, `get_dataset`).
  configs: the packaged gin files (`gin_configs/`), found by short name (`find_gin_file`).
  data.procedural, data.vector: the offline data sets.
  pairs: weakly-supervised pairs sharing exactly s factors (`sample_pairs`, `make_pair_dataset`).
  neural_sort: NeuralSort relaxed sorting (`neural_sort`, `gumbel_neural_sort`).
  group_vae, weak_training, evaluation: HGVAE's aggregation, training and evaluation.
  train_weak, sweep, dlib_tools: the command lines `mvhg_train_weak`, `mvhg_sweep`, `mvhg_dlib`.
  files: outputs written whole or not at all (`atomic_write`), and the runs' fault-injection
    test hook (`fault_point`).
"""


def install_compat():
    """Applies the disentanglement_lib shims of `disentanglement_ext.compat` (idempotent).

    Call it before the first import of disentanglement_lib (a disentanglement_lib module imported
    without it fails on gin's removed `blacklist=` keyword); it imports disentanglement_lib and
    TensorFlow.
    """
    from disentanglement_ext import compat  # pylint: disable=import-outside-toplevel
    compat.install()
