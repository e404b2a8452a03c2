# Copyright 2026 The tfp-mvhg authors.
# SPDX-License-Identifier: Apache-2.0
"""Step-time cost of marginalizing HGVAE's k exactly instead of one straight-through sample.

With m = [d, d], n = d the MVHG over k (independent dimensions) has d + 1 support points, so

    E_q[loss] = sum_{k=0..d} q(k | gamma) loss(mask_k),   mask_k = top-k of gamma,

is exact, with q(k) = `tfp_mvhg.MultivariateHypergeometric([d, d], d, log_omega).prob([k, d - k])`.
It needs every view decoded under all d + 1 masks: 2 (d + 1) decodes per pair instead of 2. This
script times one Adam training step of both losses (disentanglement_lib's conv encoder/decoder,
d = 10, a fixed batch of offline pairs, the same process, rounds alternating):

- "sampled": HGVAE as trained (`hg.gin`: one relaxed MVHG sample of k, NeuralSort mask);
- "exact": the loss above (reconstruction + beta KL per mask, averaged over the two views).

Run: `.venv/bin/python benchmarks/bench_marginal_k_cost.py [--batch_size 32] [--steps 5]
[--rounds 3]`; prints a Markdown table and writes `benchmarks/results/bench_marginal_k_cost.md`.
"""

import argparse
import os
import platform
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import gin.tf  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow.compat.v1 as tf  # noqa: E402

import disentanglement_ext  # noqa: E402

disentanglement_ext.install_compat()  # before disentanglement_lib is imported
import tfp_mvhg  # noqa: E402
from disentanglement_ext import configs  # noqa: E402
from disentanglement_ext import group_vae  # noqa: E402
from disentanglement_ext import pairs  # noqa: E402
from disentanglement_ext import weak_training  # noqa: E402, F401  (registers the gin names)

from disentanglement_lib.data.ground_truth import named_data  # noqa: E402
from disentanglement_lib.methods.shared import losses  # noqa: E402
from disentanglement_lib.methods.shared import optimizers  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def exact_marginal_loss(model, features):
    """E_q[loss] over k = 0..d (see the module docstring): scalar. features [batch, 2, H, W, C]."""
    with tf.variable_scope(tf.get_variable_scope(), reuse=tf.AUTO_REUSE):
        posteriors = [model.gaussian_encoder(features[:, view], is_training=True)
                      for view in (0, 1)]
    gamma = group_vae.symmetric_gaussian_kl(*posteriors[0], *posteriors[1])     # [batch, d]
    num_latent = int(gamma.shape[-1])
    with tf.variable_scope("hypergeometric_aggregation"):
        log_omega = tf.layers.dense(gamma, 2, name="log_omega")
    ks = tf.range(num_latent + 1, dtype=tf.float32)
    counts = tf.stack([ks, num_latent - ks], axis=-1)                            # [d+1, 2]
    log_q = tfp_mvhg.MultivariateHypergeometric(
        [float(num_latent)] * 2, float(num_latent),
        logits=log_omega[:, None, :]).log_prob(counts)                           # [batch, d+1]
    ranks = tf.argsort(tf.argsort(gamma, axis=-1, direction="DESCENDING"), axis=-1)
    masks = tf.cast(ranks[:, None, :] < tf.cast(ks, tf.int32)[None, :, None], tf.float32)
    shared_mean, shared_logvar = group_vae.combine_views(*posteriors[0], *posteriors[1],
                                                         model.combine)
    image_shape = features.get_shape().as_list()[2:]
    loss_per_k = 0.
    for view, (own_mean, own_logvar) in enumerate(posteriors):   # mixed under every mask
        mean = masks * own_mean[:, None] + (1. - masks) * shared_mean[:, None]   # [b, d+1, d]
        logvar = masks * own_logvar[:, None] + (1. - masks) * shared_logvar[:, None]
        flat_mean, flat_logvar = (tf.reshape(x, [-1, num_latent]) for x in (mean, logvar))
        sampled = model.sample_from_latent_distribution(flat_mean, flat_logvar)
        with tf.variable_scope(tf.get_variable_scope(), reuse=tf.AUTO_REUSE):
            reconstruction = model.decode(sampled, image_shape, True)
        images = tf.repeat(features[:, view], num_latent + 1, axis=0)
        reconstruction_loss = tf.reshape(
            losses.make_reconstruction_loss(images, reconstruction), [-1, num_latent + 1])
        kl = tf.reduce_sum(0.5 * (tf.square(mean) + tf.exp(logvar) - logvar - 1.), axis=-1)
        loss_per_k += 0.5 * (reconstruction_loss + model.beta * kl)
    return tf.reduce_mean(tf.reduce_sum(tf.exp(log_q) * loss_per_k, axis=-1))


def build(batch, exact):
    gin.clear_config()
    gin.parse_config_files_and_bindings(
        [os.path.join(configs.GIN_DIR, name) for name in
         ("base.gin", "hg.gin", "procedural.gin")], [])
    model = gin.query_parameter("model.model").scoped_configurable_fn()
    graph = tf.Graph()
    with graph.as_default():
        tf.set_random_seed(0)
        features = tf.constant(batch.observations)
        labels = {"num_shared": tf.constant(batch.num_shared),
                  "shared_mask": tf.constant(batch.shared_mask)}
        if exact:
            loss = exact_marginal_loss(model, features)
            train_op = optimizers.make_vae_optimizer().minimize(
                loss, global_step=tf.train.get_or_create_global_step())
        else:
            train_op = model.model_fn(features, labels, tf.estimator.ModeKeys.TRAIN, {}).train_op
        session = tf.Session(graph=graph)
        session.run(tf.global_variables_initializer())
    return session, train_op


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--batch_size", type=int, default=32)
    parser.add_argument("--steps", type=int, default=5, help="steps per timing round")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    gin.parse_config_files_and_bindings(
        [os.path.join(configs.GIN_DIR, "procedural.gin")], [])
    dataset = named_data.get_named_ground_truth_data()
    batch = pairs.sample_pairs(dataset, args.batch_size, np.random.RandomState(0), num_shared=3)
    sessions = {name: build(batch, name == "exact") for name in ("sampled", "exact")}
    times = {name: [] for name in sessions}
    for session, train_op in sessions.values():   # warm-up
        session.run(train_op)
    for _ in range(args.rounds):
        for name, (session, train_op) in sessions.items():
            start = time.perf_counter()
            for _ in range(args.steps):
                session.run(train_op)
            times[name].append((time.perf_counter() - start) / args.steps)
    median = {name: float(np.median(values)) for name, values in times.items()}
    lines = [f"Machine: {platform.machine()}, {os.cpu_count()} cores, load average "
             f"{os.getloadavg()[0]:.1f}; batch {args.batch_size} pairs, {args.rounds} rounds of "
             f"{args.steps} steps; command: "
             "`.venv/bin/python benchmarks/bench_marginal_k_cost.py`.",
             "", "| HGVAE loss | median step (ms) | relative |", "|---|---:|---:|"]
    for name in ("sampled", "exact"):
        lines.append(f"| {name} | {1000 * median[name]:.0f} | "
                     f"{median[name] / median['sampled']:.2f}x |")
    os.makedirs(os.path.join(ROOT, "benchmarks", "results"), exist_ok=True)
    with open(os.path.join(ROOT, "benchmarks", "results", "bench_marginal_k_cost.md"), "w",
              encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
