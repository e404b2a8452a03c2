# Copyright 2026 The tfp-mvhg authors.
# SPDX-License-Identifier: Apache-2.0
"""Training-step time of HGVAE against LabelVAE (and AdaVAE) in the same process (paper Table 3).

Each model's training step (encoder, aggregation, decoders, loss, Adam update; disentanglement_lib's
conv architectures on the offline images, or with `--data vector` the MLP of `vector.gin` on the
vector data set with HGVAE as `hg_per_dimension.gin`; 10 latent dimensions) runs in its own TF1
graph on a fixed batch of pairs, so only the model differs (no input pipeline, no estimator hooks).
Rounds alternate between the models; the figure is the median step time over rounds. Overhead =
HGVAE / LabelVAE - 1 (the paper reports about 0-2%; our target is below 5% per step on CPU).

Run: `.venv/bin/python benchmarks/bench_hgvae_overhead.py [--data procedural|vector]
[--batch_size 64] [--steps 20] [--rounds 5]`; writes `benchmarks/results/bench_hgvae_overhead.json`
and `.md` (`bench_hgvae_overhead_vector.*` for the vector data set).
"""

import argparse
import json
import os
import platform
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import gin.tf  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow.compat.v1 as tf  # noqa: E402

import disentanglement_ext  # noqa: E402

disentanglement_ext.install_compat()  # before disentanglement_lib is imported
from disentanglement_ext import configs  # noqa: E402
from disentanglement_ext import pairs  # noqa: E402
from disentanglement_ext import weak_training  # noqa: E402, F401  (registers the gin names)

from disentanglement_lib.data.ground_truth import named_data  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESULTS = os.path.join(ROOT, "benchmarks", "results")
METHODS = ["label", "ada", "hg"]
# --data -> (gin files after base.gin and the method's, extra files for HGVAE)
DATA = {"procedural": (["procedural.gin"], []),
        "vector": (["vector.gin"], ["hg_per_dimension.gin"])}


def build(method, batch, data):
    """A graph and session with one training step of `method` on a fixed `PairBatch`."""
    files, hg_files = DATA[data]
    gin.clear_config()
    gin.parse_config_files_and_bindings(
        [os.path.join(configs.GIN_DIR, name) for name in
         ["base.gin", f"{method}.gin"] + (hg_files if method == "hg" else []) + files],
        ["encoder.num_latent = 10"])
    model = gin.query_parameter("model.model").scoped_configurable_fn()
    graph = tf.Graph()
    with graph.as_default():
        tf.set_random_seed(0)
        features = tf.constant(batch.observations)
        labels = {"num_shared": tf.constant(batch.num_shared),
                  "shared_mask": tf.constant(batch.shared_mask)}
        spec = model.model_fn(features, labels, tf.estimator.ModeKeys.TRAIN, {})
        session = tf.Session(graph=graph)
        session.run(tf.global_variables_initializer())
    return session, spec.train_op


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--data", choices=sorted(DATA), default="procedural")
    parser.add_argument("--batch_size", type=int, default=64)
    parser.add_argument("--steps", type=int, default=20, help="steps per timing round")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    gin.parse_config_files_and_bindings(
        [os.path.join(configs.GIN_DIR, name) for name in ["base.gin"] + DATA[args.data][0]],
        [])
    dataset = named_data.get_named_ground_truth_data()
    batch = pairs.sample_pairs(dataset, args.batch_size, np.random.RandomState(0), num_shared=3)
    sessions = {method: build(method, batch, args.data) for method in METHODS}
    times = {method: [] for method in METHODS}
    for session, train_op in sessions.values():  # warm-up
        for _ in range(3):
            session.run(train_op)
    for round_index in range(args.rounds):
        for method, (session, train_op) in sessions.items():
            start = time.perf_counter()
            for _ in range(args.steps):
                session.run(train_op)
            times[method].append((time.perf_counter() - start) / args.steps)
        print(f"round {round_index + 1}/{args.rounds}: " + ", ".join(
            f"{method} {1000 * times[method][-1]:.1f} ms" for method in METHODS), flush=True)
    median = {method: float(np.median(values)) for method, values in times.items()}
    overhead = {method: median[method] / median["label"] - 1. for method in METHODS}
    result = dict(machine=f"{platform.machine()}, {os.cpu_count()} cores", data=args.data,
                  load_average=os.getloadavg(), batch_size=args.batch_size, steps=args.steps,
                  rounds=args.rounds, median_step_seconds=median, step_seconds=times,
                  overhead_vs_label=overhead)
    os.makedirs(RESULTS, exist_ok=True)
    name = "bench_hgvae_overhead" + ("" if args.data == "procedural" else f"_{args.data}")
    with open(os.path.join(RESULTS, name + ".json"), "w", encoding="utf-8") as handle:
        json.dump(result, handle, indent=2)
    lines = [f"Machine: {result['machine']}, load average {result['load_average'][0]:.1f}; "
             f"batch {args.batch_size} pairs, {args.rounds} rounds of {args.steps} steps; "
             f"command: `.venv/bin/python benchmarks/bench_hgvae_overhead.py --data {args.data}`.",
             "", "| model | median step (ms) | steps/s | overhead vs LabelVAE |",
             "|---|---:|---:|---:|"]
    for method, label in (("label", "LabelVAE"), ("ada", "AdaVAE"), ("hg", "HGVAE")):
        lines.append(f"| {label} | {1000 * median[method]:.2f} | {1 / median[method]:.0f} | "
                     f"{100 * overhead[method]:+.1f}% |")
    with open(os.path.join(RESULTS, name + ".md"), "w", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
