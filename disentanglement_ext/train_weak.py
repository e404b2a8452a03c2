# Copyright 2026 The tfp-mvhg authors.
# SPDX-License-Identifier: Apache-2.0
"""Trains, exports and evaluates one weakly-supervised run (LabelVAE, AdaVAE or HGVAE) from gin
files.

    mvhg_train_weak --model_dir DIR --gin_config base --gin_config hg --gin_config procedural \
        [--gin_config cpu_small] [--gin_bindings "model.num_shared = 3" ...] [--overwrite]
        [--verbose]

(or `python -m disentanglement_ext.train_weak ...`). A gin file is a path or the short name of a
shipped config (base, label, ada, hg, procedural, mpi3d_toy, cpu_small). See
`disentanglement_ext.weak_training` for the outputs.
"""

import argparse
import os
import sys
import traceback

import disentanglement_ext


def build_parser():
    parser = argparse.ArgumentParser(
        prog="mvhg_train_weak", description=__doc__.split("\n", maxsplit=1)[0],
        epilog="disentanglement_lib's `dynamics.k` (factors that change within a pair) is "
               "`model.num_shared = s` here, s = F - k for F ground-truth factors.")
    parser.add_argument("--model_dir", required=True)
    parser.add_argument("--gin_config", action="append", default=[],
                        help="gin file: a path or a shipped config's short name (repeat)")
    parser.add_argument("--gin_bindings", action="append", default=[], help="gin binding (repeat)")
    parser.add_argument("--overwrite", action="store_true", help="delete MODEL_DIR first")
    parser.add_argument("--verbose", action="store_true",
                        help="TensorFlow's INFO logs and warnings instead of one progress line "
                             "per group_vae_logging.every_n_steps, and the traceback of an error")
    return parser


def quiet_tensorflow(verbose):
    """Sets the TF C++/Python log levels and warnings (call before importing TensorFlow)."""
    import warnings  # pylint: disable=import-outside-toplevel
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "0" if verbose else "3"
    import tensorflow as tf  # pylint: disable=import-outside-toplevel
    tf.get_logger().setLevel("INFO" if verbose else "ERROR")
    if not verbose:
        from absl import logging  # pylint: disable=import-outside-toplevel
        logging.set_verbosity(logging.ERROR)
        warnings.filterwarnings("ignore")


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.gin_config:
        parser.error("give at least one --gin_config")
    quiet_tensorflow(args.verbose)
    from disentanglement_ext import configs  # pylint: disable=import-outside-toplevel
    try:
        disentanglement_ext.install_compat()
        from disentanglement_ext import weak_training  # pylint: disable=import-outside-toplevel
        weak_training.train_with_gin(args.model_dir, args.overwrite, args.gin_config,
                                     args.gin_bindings)
    except configs.ConfigError as error:
        if args.verbose:
            traceback.print_exc()
        parser.exit(2, f"{parser.prog}: error: {configs.without_gin_context(error)}\n")
    except ModuleNotFoundError as error:
        if error.name not in ("disentanglement_lib", "gin", "tensorflow_hub", "sklearn"):
            raise
        parser.exit(2, f"{parser.prog}: error: no module {error.name!r}: "
                       f"{configs.WEAK_INSTALL_HINT}\n")


if __name__ == "__main__":
    sys.exit(main())
