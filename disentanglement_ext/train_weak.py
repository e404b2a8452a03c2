"""Command line of one weakly-supervised run; see `disentanglement_ext.weak_training`.

    python -m disentanglement_ext.train_weak --model_dir DIR --gin_config FILE [--gin_config ...]
        [--gin_bindings "model.num_shared = 3" ...] [--overwrite]
"""

import argparse

import tensorflow.compat.v1 as tf

from disentanglement_ext import weak_training


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--model_dir", required=True)
    parser.add_argument("--gin_config", action="append", default=[], help="gin file (repeat)")
    parser.add_argument("--gin_bindings", action="append", default=[], help="gin binding (repeat)")
    parser.add_argument("--overwrite", action="store_true")
    args = parser.parse_args(argv)
    if not args.gin_config:
        parser.error("give at least one --gin_config")
    tf.logging.set_verbosity(tf.logging.INFO)
    weak_training.train_with_gin(args.model_dir, args.overwrite, args.gin_config, args.gin_bindings)


if __name__ == "__main__":
    main()
