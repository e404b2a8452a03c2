"""disentanglement_ext: weakly-supervised HGVAE parts on top of disentanglement_lib 1.5.

Importing this package first applies the runtime shims of `disentanglement_ext.compat` (TF 2.15,
gin-config 0.5, imageio >= 2.28), so import it before any disentanglement_lib module. It also makes
`dataset.name = "procedural_mpi3d_toy"` (an offline, procedurally rendered stand-in for mpi3d_toy)
selectable through disentanglement_lib's `named_data.get_named_ground_truth_data`.

Modules:
  compat: the shims (`install()`, idempotent).
  registry: extra `dataset.name` values (`register_dataset`, `get_dataset`).
  data.procedural: `ProceduralMPI3DToy`, `save_factor_grid`.
  pairs: weakly-supervised pairs sharing exactly s factors (`sample_pairs`, `make_pair_dataset`).
  neural_sort: NeuralSort relaxed sorting (`neural_sort`, `gumbel_neural_sort`).
"""
from disentanglement_ext import compat

compat.install()
