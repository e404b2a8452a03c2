# Copyright 2026 The tfp-mvhg authors.
# SPDX-License-Identifier: Apache-2.0
"""Extra ground-truth data sets selectable with gin's `dataset.name` (shim 4 of `compat`).

disentanglement_lib picks its data set with `named_data.get_named_ground_truth_data()`, the gin
configurable `dataset`, whose body is a fixed if/elif chain over built-in names. To add names
without copying or forking that function, `install()` swaps the function that gin's wrapper calls
for `_dispatch`, which builds a registered data set for a registered name and hands every other name
to the original function (so `mpi3d_toy` read from `$DISENTANGLEMENT_LIB_DATA`, `dsprites_full`,
`dummy_data`, ... behave exactly as before); an unknown name is a `ConfigError` listing the valid
ones.

The swap happens inside gin's wrapper rather than by rebinding the module attribute, so that every
path into the configurable sees it: `named_data.get_named_ground_truth_data()` (whenever its caller
imported it), `gin.get_configurable("dataset")` and `@dataset` references in gin files; gin keeps
injecting `dataset.name`, honouring scopes, and recording it in the operative config (which
`postprocess` and `evaluate` read back for `dataset.name = "auto"`).

Registered here: `procedural_mpi3d_toy` -> `disentanglement_ext.data.procedural.ProceduralMPI3DToy`
(64x64 images) and `vector_mpi3d_toy` -> `disentanglement_ext.data.vector.VectorMPI3DToy` (the same
factors as vectors, for runs that converge in minutes on a CPU).
"""

_FACTORIES = {}

# Names the original function (or postprocess/evaluate, for "auto") already gives a meaning.
BUILTIN_NAMES = ("dsprites_full", "dsprites_noshape", "color_dsprites", "noisy_dsprites",
                 "scream_dsprites", "smallnorb", "cars3d", "mpi3d_toy", "mpi3d_realistic",
                 "mpi3d_real", "shapes3d", "dummy_data", "auto")


def register_dataset(name, factory):
    """Makes `dataset.name = "<name>"` build `factory()`.

    Args:
      name: str, the name used in gin configs; must not shadow a built-in disentanglement_lib name.
      factory: callable with no arguments returning a `GroundTruthData`.

    Raises:
      ValueError: if `name` is empty, not a string, a built-in name (`BUILTIN_NAMES`), or
        already registered to another factory.
    """
    if not isinstance(name, str) or not name:
        raise ValueError(f"name must be a non-empty string, got {name!r}.")
    if name in BUILTIN_NAMES:
        raise ValueError(f"name {name!r} is a built-in disentanglement_lib data set name.")
    if not callable(factory):
        raise ValueError(f"factory must be callable, got {factory!r}.")
    if _FACTORIES.get(name, factory) is not factory:
        raise ValueError(f"name {name!r} is already registered to {_FACTORIES[name]!r}.")
    _FACTORIES[name] = factory


def registered_names():
    """The names added by `register_dataset` (not the built-in ones), sorted."""
    return sorted(_FACTORIES)


def get_dataset(name):
    """The data set for `name`: a registered one, else disentanglement_lib's built-in one."""
    install()
    from disentanglement_lib.data.ground_truth import named_data
    return named_data.get_named_ground_truth_data(name)


def _gin_wrapped_function_cell(gin_wrapper):
    """The closure cell of gin's wrapper that holds the function it calls (gin 0.5: `fn`)."""
    code, closure = gin_wrapper.__code__, gin_wrapper.__closure__ or ()
    cells = dict(zip(code.co_freevars, closure, strict=True))
    cell = cells.get("fn")
    if cell is None or cell.cell_contents is not gin_wrapper.__wrapped__:
        raise RuntimeError(
            "disentanglement_ext.registry: gin's configurable wrapper is not laid out as in "
            "gin-config 0.5.0; the data set registry cannot hook `dataset`.")
    return cell


def install():
    """Hooks the registry into `named_data.get_named_ground_truth_data`; idempotent."""
    from disentanglement_lib.data.ground_truth import named_data
    gin_wrapper = named_data.get_named_ground_truth_data
    cell = _gin_wrapped_function_cell(gin_wrapper)
    if getattr(cell.cell_contents, "disentanglement_ext_registry", False):
        return
    original = cell.cell_contents

    def _dispatch(name):
        factory = _FACTORIES.get(name)
        if factory is not None:
            return factory()
        if name not in BUILTIN_NAMES:
            from disentanglement_ext.configs import ConfigError
            raise ConfigError(f"unknown dataset.name {name!r}; valid names: "
                              + ", ".join(sorted(BUILTIN_NAMES + tuple(_FACTORIES))) + ".")
        return original(name)

    _dispatch.__name__ = original.__name__
    _dispatch.__doc__ = original.__doc__
    _dispatch.__wrapped__ = original
    _dispatch.disentanglement_ext_registry = True
    gin_wrapper.__wrapped__ = _dispatch
    cell.cell_contents = _dispatch


PROCEDURAL_MPI3D_TOY = "procedural_mpi3d_toy"


def _procedural_mpi3d_toy():
    # Imported when first used, so that `python -m disentanglement_ext.data.procedural` runs clean.
    from disentanglement_ext.data import procedural
    return procedural.ProceduralMPI3DToy()


register_dataset(PROCEDURAL_MPI3D_TOY, _procedural_mpi3d_toy)


VECTOR_MPI3D_TOY = "vector_mpi3d_toy"


def _vector_mpi3d_toy():
    from disentanglement_ext.data import vector  # pylint: disable=import-outside-toplevel
    return vector.VectorMPI3DToy()


register_dataset(VECTOR_MPI3D_TOY, _vector_mpi3d_toy)
