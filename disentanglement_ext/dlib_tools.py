# Copyright 2026 The tfp-mvhg authors.
# SPDX-License-Identifier: Apache-2.0
"""Runs one of disentanglement_lib's command-line tools with our shims applied first.

    mvhg_dlib visualize_model --model_dir=RUN --output_dir=RUN/visualizations
    mvhg_dlib postprocess --model_dir=RUN --output_dir=RUN/postprocessed/sampled \
        --gin_bindings="postprocess.postprocess_fn = @sampled_representation" \
        --gin_bindings='dataset.name = "auto"' --gin_bindings="postprocess.random_seed = 0"
    mvhg_dlib evaluate --input_dir=RUN/postprocessed/sampled --output_dir=RUN/metrics/sampled/mig \
        --gin_bindings="evaluation.evaluation_fn = @mig" ...

TOOL is a `dlib_*` script of disentanglement-lib 1.5 (with or without the `dlib_` prefix); its
own flags follow. An unknown tool, a missing input folder or gin file, or an error of the tool is
one line on stderr and exit status 2 (`--verbose`: with the tool's traceback). Run alone,
disentanglement_lib's tools fail on TF 2 / gin 0.5 (for example "configurable() got an unexpected
keyword argument 'blacklist'") and do not know our data sets; here `disentanglement_ext.compat`
is installed (`disentanglement_ext.install_compat()`) before the tool's imports.
"""

import os
import sys
import sysconfig

import disentanglement_ext

# Flags naming what a tool reads, per tool: they must name an existing folder.
INPUT_FLAGS = {"dlib_visualize_model": "model_dir", "dlib_postprocess": "model_dir",
               "dlib_evaluate": "input_dir", "dlib_reason": "input_dir"}


def _tools(scripts_dir):
    return sorted(name for name in os.listdir(scripts_dir) if name.startswith("dlib_"))


def _flag_values(args, flag):
    """The values of `--flag=VALUE` and `--flag VALUE` in `args`."""
    values = [arg.split("=", 1)[1] for arg in args if arg.startswith(f"--{flag}=")]
    pairs = zip(args, args[1:], strict=False)
    return values + [value for arg, value in pairs if arg == f"--{flag}"]


def check_inputs(tool, args):
    """The problem with the folder and gin files that `tool` is to read (one line), or None."""
    flag = INPUT_FLAGS.get(tool)
    for value in _flag_values(args, flag) if flag else []:
        if not os.path.isdir(value):
            return (f"--{flag} {value}: no such folder; give a run folder (mvhg_train_weak "
                    "--model_dir)" + (", or its postprocessed/NAME" if flag == "input_dir" else ""))
    for value in _flag_values(args, "gin_config"):
        if not os.path.isfile(value):
            return f"--gin_config {value}: no such file."
    return None


def _fail(message):
    print(f"mvhg_dlib: error: {message}", file=sys.stderr, flush=True)
    sys.exit(2)


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    verbose = "--verbose" in argv
    argv = [arg for arg in argv if arg != "--verbose"]
    scripts_dir = sysconfig.get_path("scripts")
    if not argv or argv[0] in ("-h", "--help"):
        print("usage: mvhg_dlib [--verbose] TOOL [TOOL's flags]\n\n" + __doc__.strip())
        print("\nTools here:", ", ".join(_tools(scripts_dir)) or "none (disentanglement-lib is "
              "not installed)")
        return 0
    name = argv[0] if argv[0].startswith("dlib_") else "dlib_" + argv[0]
    path = os.path.join(scripts_dir, name)
    from disentanglement_ext import configs  # pylint: disable=import-outside-toplevel
    if not os.path.isfile(path):
        _fail(f"no {name} in {scripts_dir}; tools here: {', '.join(_tools(scripts_dir)) or 'none'}"
              f". For disentanglement_lib, {configs.WEAK_INSTALL_HINT}")
    problem = check_inputs(name, argv[1:])
    if problem:
        _fail(problem)
    import runpy  # pylint: disable=import-outside-toplevel
    disentanglement_ext.install_compat()
    sys.argv = [path] + argv[1:]
    try:
        runpy.run_path(path, run_name="__main__")
    except Exception as error:  # pylint: disable=broad-except  (the tool's own failure)
        if verbose:
            import traceback  # pylint: disable=import-outside-toplevel
            traceback.print_exc()
        message = " ".join(configs.without_gin_context(error).split())
        _fail(f"{name} failed: {type(error).__name__}: {message}"
              + ("" if verbose else " (--verbose shows the traceback)"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
