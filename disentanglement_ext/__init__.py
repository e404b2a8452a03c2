"""disentanglement_ext: weakly-supervised HGVAE parts on top of disentanglement_lib 1.5.

Importing this package is cheap (no TensorFlow): it arranges for the runtime shims of
`disentanglement_ext.compat` (TF 2.15, gin-config 0.5, imageio >= 2.28) to be applied as soon as
`disentanglement_lib` is first imported, so import it before any disentanglement_lib module. The
shims also make `dataset.name = "procedural_mpi3d_toy"` (an offline, procedurally rendered stand-in
for mpi3d_toy) selectable through disentanglement_lib's `named_data.get_named_ground_truth_data`.

Modules:
  compat: the shims (`install()`, idempotent).
  registry: extra `dataset.name` values (`register_dataset`, `get_dataset`).
  configs: the packaged gin files, found by short name (`find_gin_file`).
  data.procedural: `ProceduralMPI3DToy`, `save_factor_grid`.
  pairs: weakly-supervised pairs sharing exactly s factors (`sample_pairs`, `make_pair_dataset`).
  neural_sort: NeuralSort relaxed sorting (`neural_sort`, `gumbel_neural_sort`).
  train_weak, sweep, dlib_tools: the command lines `mvhg_train_weak`, `mvhg_sweep`, `mvhg_dlib`.
  files: outputs written whole or not at all (`atomic_write`), and the runs' fault-injection
    test hook (`fault_point`).
"""
import importlib.abc
import importlib.machinery
import sys


class _ShimmedLoader(importlib.abc.Loader):
    """Loads `disentanglement_lib` with its own loader, then applies `compat.install()`."""

    def __init__(self, loader):
        self._loader = loader

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        sys.meta_path[:] = [finder for finder in sys.meta_path
                            if not isinstance(finder, _ShimsOnImport)]
        self._loader.exec_module(module)
        from disentanglement_ext import compat  # pylint: disable=import-outside-toplevel
        compat.install()


class _ShimsOnImport(importlib.abc.MetaPathFinder):
    """Meta-path finder that hooks the first import of `disentanglement_lib`; it stays until the
    module is executed (`importlib.util.find_spec` alone looks the module up without importing)."""

    def find_spec(self, name, path=None, target=None):
        if name != "disentanglement_lib":
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is not None:
            spec.loader = _ShimmedLoader(spec.loader)
        return spec


if "disentanglement_lib" in sys.modules:
    from disentanglement_ext import compat
    compat.install()
elif not any(isinstance(finder, _ShimsOnImport) for finder in sys.meta_path):
    sys.meta_path.insert(0, _ShimsOnImport())
