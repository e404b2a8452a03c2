# Copyright 2026 The tfp-mvhg authors.
# SPDX-License-Identifier: Apache-2.0
"""Runtime shims that let disentanglement_lib 1.5 run on TF 2.15, gin-config 0.5 and imageio 2.36.

disentanglement_lib 1.5 was written for TF 1.14, gin-config < 0.5 and an old imageio. On the stack
of `requirements/main.txt` parts of it fail at import time or when run.
This is the one place that fixes that: each shim is one function below, with the reason it is
needed. `install()` (also `disentanglement_ext.install_compat()`) applies them all; it is
idempotent and must run before any disentanglement_lib import. Nothing calls it at import time: the
commands call it, and library users call it once (`require` says so when they did not).

Nothing in `tfp_mvhg` imports this module (data flows `tfp_mvhg -> disentanglement_ext`).

What was needed, found by importing and running disentanglement_lib's own pipeline on this stack
(unsupervised `train.train_with_gin` with BaseVAE/BetaVAE, conv_encoder/deconv_decoder,
bernoulli_loss and Adam -> TPUEstimator training and TF-Hub export -> `postprocess` -> `evaluate`
with mig, dci, sap_score, modularity_explicitness, beta_vae_sklearn, factor_vae_score, irs,
unsupervised_metrics and downstream_task -> `visualize_model`, `visualize_dataset`,
`utils.results`, `aggregate_results`; tests/disentanglement_ext/test_dlib_compat.py runs the fast
parts, and all of it with DISENTANGLEMENT_EXT_SLOW=1):

1. `tensorflow.contrib` (gone since TF 2.0):
   - `from tensorflow.contrib import tpu as contrib_tpu` in `unsupervised/vae.py`, `train.py` and
     `abstract_reasoning/{models,reason}.py`; the classes they use (TPUEstimator, TPUEstimatorSpec,
     RunConfig, TPUConfig) are in `tf.compat.v1.estimator.tpu`.
   - `from tensorflow.contrib import framework` in `utils/convolute_hub.py` (used by every
     `postprocess` run) for `assign_from_checkpoint_fn`, re-implemented here on
     `tf.compat.v1.train.Saver`.
2. gin `whitelist=`/`blacklist=`: gin 0.5 renamed these keyword arguments of `gin.configurable`
   and `gin.external_configurable` to `allowlist=`/`denylist=`; disentanglement_lib uses the old
   names (TypeError at import of architectures, losses, vae, train and every metric).
3. imageio uint8 frames: `visualize_util.save_animation` (visualize_model's and
   visualize_dataset's GIFs) passes float frames in [0, 1] to `imageio.mimwrite`; imageio >= 2.28
   (pillow v3 plugin) raises "TypeError: Cannot handle this data type: (1, 1, 3), <f8".
4. Extra data set names: `named_data.get_named_ground_truth_data` (gin configurable `dataset`) has a
   fixed if/elif list of names; `disentanglement_ext.registry` adds ours
   (`dataset.name = "procedural_mpi3d_toy"`), every other name still goes to the original function.
5. seaborn: `evaluation/evaluate.py` imports `metrics/unified_scores.py`, which imports
   `visualize/visualize_scores.py`, which needs seaborn, not in requirements/main.txt; without it
   `evaluate` cannot be imported. If seaborn is missing, visualize_scores is imported against a
   stand-in that is removed again right after (only unified_scores' plots need the real one).

6. Result folders re-created in one process: `utils.results.copydir` copies with distutils'
   `dir_util.copy_tree`, whose `mkpath` remembers every folder it made in the process; after such a
   folder is deleted (a stale metric recomputed by `weak_training`), copying into it again fails
   with "could not create ...". The copy is done with `shutil.copytree` instead.
7. MPI3D factor sizes: `mpi3d.MPI3D` hard-codes 4 colours and 4 shapes (460800 images) for
   mpi3d_toy and mpi3d_realistic, but the released files hold 6 and 6 (1036800 images); with that
   file every factor vector would silently index the wrong image. The sizes are now taken from the
   file's image count (`MPI3D_LAYOUTS`), and any other count is a ValueError.

Everything else imported and ran unchanged (tf.compat.v1 layers, losses, optimizers and
estimator, gin.tf.external_configurables, tensorflow_hub 0.15 export and `eval_function_for_module`,
the sklearn-based metrics with scikit-learn 1.5, simplejson results, distutils on Python 3.11).
Small sample sizes (e.g. 50 test points for a 40-valued factor) make modularity_explicitness and
downstream_task fail inside scikit-learn (a class missing from a split); that is not a stack issue.
"""
import sys
import types

_installed = False


def assign_from_checkpoint_fn(model_path, var_list, ignore_missing_vars=False,
                              reshape_variables=False):
    """TF 1 `tf.contrib.framework.assign_from_checkpoint_fn` on `tf.compat.v1.train.Saver`.

    Args:
      model_path: checkpoint path (prefix) to restore from.
      var_list: list of variables, or dict {name in checkpoint: variable}.
      ignore_missing_vars: skip variables the checkpoint lacks instead of failing.
      reshape_variables: let the Saver restore into variables of a different shape.

    Returns:
      A function `fn(session)` that restores the variables, or None when `ignore_missing_vars`
      left none to restore.
    """
    import tensorflow as tf
    if not var_list:
        raise ValueError("var_list cannot be empty.")
    if ignore_missing_vars:
        in_checkpoint = {name for name, _ in tf.train.list_variables(model_path)}
        if isinstance(var_list, dict):
            var_list = {k: v for k, v in var_list.items() if k in in_checkpoint}
        else:
            var_list = [v for v in var_list if v.op.name in in_checkpoint]
        if not var_list:
            return None
    saver = tf.compat.v1.train.Saver(var_list, reshape=reshape_variables)

    def callback(session):
        saver.restore(session, model_path)
    return callback


def _install_tensorflow_contrib():
    """Shim 1: a `tensorflow.contrib` stub with `tpu` and `framework.assign_from_checkpoint_fn`."""
    if "tensorflow.contrib" in sys.modules:
        return
    import tensorflow as tf
    contrib = types.ModuleType(
        "tensorflow.contrib", "Stub of TF 1's removed tf.contrib (disentanglement_ext.compat).")
    contrib.tpu = tf.compat.v1.estimator.tpu
    contrib.framework = types.ModuleType(
        "tensorflow.contrib.framework", "Stub: only assign_from_checkpoint_fn.")
    contrib.framework.assign_from_checkpoint_fn = assign_from_checkpoint_fn
    sys.modules["tensorflow.contrib"] = contrib
    sys.modules["tensorflow.contrib.tpu"] = contrib.tpu
    sys.modules["tensorflow.contrib.framework"] = contrib.framework


def _renamed_list_kwargs(kwargs):
    """gin < 0.5 keyword names (whitelist/blacklist) mapped to gin 0.5's (allowlist/denylist)."""
    for old, new in (("whitelist", "allowlist"), ("blacklist", "denylist")):
        if old in kwargs:
            if new in kwargs:
                raise TypeError(f"Pass either {old!r} or {new!r}, not both.")
            kwargs[new] = kwargs.pop(old)
    return kwargs


def _install_gin_list_kwargs():
    """Shim 2: gin.configurable and gin.external_configurable accept whitelist=/blacklist=."""
    import gin
    from gin import config

    def accepting_old_names(original):
        def shim(*args, **kwargs):
            return original(*args, **_renamed_list_kwargs(kwargs))
        shim.__name__, shim.__qualname__ = original.__name__, original.__qualname__
        shim.__doc__, shim.__wrapped__ = original.__doc__, original
        shim.disentanglement_ext_shim = True
        return shim

    for name in ("configurable", "external_configurable"):
        original = getattr(config, name)
        if getattr(original, "disentanglement_ext_shim", False):
            continue
        # disentanglement_lib calls `gin.configurable`; gin.tf.external_configurables calls
        # `gin.config.external_configurable`: rebind both names.
        shim = accepting_old_names(original)
        setattr(config, name, shim)
        setattr(gin, name, shim)


def to_uint8_frame(frame):
    """An image as uint8: floats are taken to be in [0, 1] (clipped, scaled by 255, rounded)."""
    import numpy as np
    frame = np.asarray(frame)
    if frame.dtype == np.uint8:
        return frame
    if np.issubdtype(frame.dtype, np.floating):
        return np.round(np.clip(frame, 0., 1.) * 255.).astype(np.uint8)
    return np.clip(frame, 0, 255).astype(np.uint8)


class _Uint8Imageio:
    """Stands in for `imageio` inside visualize_util: `mimwrite`/`mimsave` get uint8 frames."""

    disentanglement_ext_shim = True

    def __init__(self, module):
        self._module = module

    def __getattr__(self, name):
        return getattr(self._module, name)

    def mimwrite(self, uri, ims, *args, **kwargs):
        return self._module.mimwrite(uri, [to_uint8_frame(im) for im in ims], *args, **kwargs)

    mimsave = mimwrite


def _install_imageio_uint8():
    """Shim 3: visualize_util's GIF frames are converted to uint8 before imageio sees them.

    Only the name `imageio` inside `disentanglement_lib.visualize.visualize_util` is rebound; the
    global `imageio` module is untouched.
    """
    from disentanglement_lib.visualize import visualize_util
    if not getattr(visualize_util.imageio, "disentanglement_ext_shim", False):
        visualize_util.imageio = _Uint8Imageio(visualize_util.imageio)


def _missing_seaborn(name):
    if name.startswith("__"):   # keep hasattr(module, "__path__") and friends working
        raise AttributeError(name)
    raise ImportError(
        f"seaborn.{name}: seaborn is not installed. disentanglement_lib's visualize_scores "
        "(unified_scores' plots) needs it: pip install seaborn.")


def _install_seaborn_fallback():
    """Shim 5: import `visualize_scores` when seaborn is not installed.

    `evaluation/metrics/unified_scores.py` (imported by `evaluation/evaluate.py`) imports
    `visualize/visualize_scores.py`, which does `import seaborn as sns` at the top but uses it only
    inside two plotting functions. seaborn is not in requirements/main.txt. When it is missing, we
    import visualize_scores against a stand-in whose attributes raise an ImportError saying what to
    install, then take the stand-in out of `sys.modules` again, so nothing else sees a fake seaborn.
    With seaborn installed this does nothing.
    """
    import importlib.util
    if (importlib.util.find_spec("seaborn") is not None
            or "disentanglement_lib.visualize.visualize_scores" in sys.modules):
        return
    stand_in = types.ModuleType("seaborn", "Stand-in: seaborn is not installed.")
    stand_in.__getattr__ = _missing_seaborn
    sys.modules["seaborn"] = stand_in
    try:
        import disentanglement_lib.visualize.visualize_scores  # noqa: F401
    finally:
        del sys.modules["seaborn"]


def _copy_tree(source, destination):
    import shutil
    shutil.copytree(source, destination, dirs_exist_ok=True)


def _install_results_copy():
    """Shim 6: disentanglement_lib's result folders are copied with `shutil.copytree`."""
    from disentanglement_lib.utils import results
    results._copy_recursively = _copy_tree  # pylint: disable=protected-access


# Image count of an MPI3D file -> factor sizes (colour, shape, size, camera height, background,
# horizontal axis, vertical axis): the released files, and disentanglement_lib's declared sizes.
MPI3D_LAYOUTS = {1036800: (6, 6, 2, 3, 3, 40, 40), 460800: (4, 4, 2, 3, 3, 40, 40)}


def _check_mpi3d_file(mode):
    """Raises `ConfigError` naming the path and `$DISENTANGLEMENT_LIB_DATA` if the file is
    missing."""
    import os

    from disentanglement_ext.configs import ConfigError
    data = os.environ.get("DISENTANGLEMENT_LIB_DATA")
    path = os.path.join(data or ".", mode, f"{mode}.npz")
    if not os.path.exists(path):
        where = (f"$DISENTANGLEMENT_LIB_DATA = {data}" if data else
                 "$DISENTANGLEMENT_LIB_DATA is not set, so the current folder")
        raise ConfigError(
            f"dataset {mode!r}: {os.path.abspath(path)} not found ({where}). Point "
            f"$DISENTANGLEMENT_LIB_DATA at the folder holding {mode}/{mode}.npz, or use the "
            "offline stand-in: dataset.name = 'procedural_mpi3d_toy' (gin config procedural).")


def _install_mpi3d_factor_sizes():
    """Shim 7: `MPI3D` takes its factor sizes from the number of images in the file (and says
    where it looked when the file is missing)."""
    import numpy as np

    from disentanglement_lib.data.ground_truth import mpi3d
    from disentanglement_lib.data.ground_truth import util
    original = mpi3d.MPI3D.__init__
    if getattr(original, "disentanglement_ext_shim", False):
        return

    def checked_init(self, mode="mpi3d_toy"):
        _check_mpi3d_file(mode)
        original(self, mode)
        num_images = len(self.images)
        sizes = MPI3D_LAYOUTS.get(num_images)
        if sizes is None:
            raise ValueError(
                f"{mode}: the file holds {num_images} images; known MPI3D layouts have "
                + ", ".join(f"{count} ({'x'.join(map(str, layout))})"
                            for count, layout in MPI3D_LAYOUTS.items()) + ".")
        self.factor_sizes = list(sizes)
        self.state_space = util.SplitDiscreteStateSpace(self.factor_sizes,
                                                        self.latent_factor_indices)
        self.factor_bases = np.prod(self.factor_sizes) / np.cumprod(self.factor_sizes)

    checked_init.disentanglement_ext_shim = True
    checked_init.__doc__ = original.__doc__
    mpi3d.MPI3D.__init__ = checked_init


def installed():
    """Whether `install()` has run in this process."""
    return _installed


def require():
    """Raises ImportError unless `install()` has run (for the modules that use disentanglement_lib,
    through `disentanglement_ext._shims_required`)."""
    if not _installed:
        raise ImportError(
            "disentanglement_ext's group_vae, weak_training and evaluation use "
            "disentanglement_lib, which needs this package's compatibility shims first: call "
            "disentanglement_ext.install_compat() before importing them (the mvhg_* commands do).")


def install():
    """Applies every shim (1-7 in the module docstring); calling it again does nothing."""
    global _installed
    if _installed:
        return
    import importlib.util
    for name in ("disentanglement_lib", "gin"):  # else the shims fail first, on a newer TF
        if importlib.util.find_spec(name) is None:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
    _install_tensorflow_contrib()
    _install_gin_list_kwargs()
    _install_imageio_uint8()
    _install_seaborn_fallback()
    _install_results_copy()
    _install_mpi3d_factor_sizes()
    from disentanglement_ext import registry  # Shim 4; imports disentanglement_lib.
    registry.install()
    _installed = True
