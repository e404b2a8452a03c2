"""Runs one of disentanglement_lib's command-line tools with our shims applied first.

    mvhg_dlib visualize_model --model_dir=RUN --output_dir=RUN/visualizations
    mvhg_dlib postprocess --model_dir=RUN --output_dir=RUN/postprocessed/sampled \
        --gin_bindings="postprocess.postprocess_fn = @sampled_representation" \
        --gin_bindings='dataset.name = "auto"' --gin_bindings="postprocess.random_seed = 0"
    mvhg_dlib evaluate --input_dir=RUN/postprocessed/sampled --output_dir=RUN/metrics/sampled/mig \
        --gin_bindings="evaluation.evaluation_fn = @mig" ...

TOOL is a `dlib_*` script of disentanglement-lib 1.5 (with or without the `dlib_` prefix); its
own flags follow. Run alone, disentanglement_lib's tools fail on TF 2 / gin 0.5 (for example
"configurable() got an unexpected keyword argument 'blacklist'") and do not know our data sets;
here `disentanglement_ext.compat` is installed before the tool's imports.
"""

import os
import sys
import sysconfig


def _tools(scripts_dir):
    return sorted(name for name in os.listdir(scripts_dir) if name.startswith("dlib_"))


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    scripts_dir = sysconfig.get_path("scripts")
    if not argv or argv[0] in ("-h", "--help"):
        print("usage: mvhg_dlib TOOL [TOOL's flags]\n\n" + __doc__.strip())
        print("\nTools here:", ", ".join(_tools(scripts_dir)) or "none (disentanglement-lib is "
              "not installed)")
        return 0
    name = argv[0] if argv[0].startswith("dlib_") else "dlib_" + argv[0]
    path = os.path.join(scripts_dir, name)
    if not os.path.isfile(path):
        from disentanglement_ext import configs  # pylint: disable=import-outside-toplevel
        sys.exit(f"mvhg_dlib: error: no {name} in {scripts_dir}; tools here: "
                 f"{', '.join(_tools(scripts_dir)) or 'none'}. For disentanglement_lib, "
                 + configs.WEAK_INSTALL_HINT)
    import runpy  # pylint: disable=import-outside-toplevel
    import disentanglement_ext  # noqa: F401  pylint: disable=import-outside-toplevel,unused-import
    sys.argv = [path] + argv[1:]
    runpy.run_path(path, run_name="__main__")
    return 0


if __name__ == "__main__":
    sys.exit(main())
