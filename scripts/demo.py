# Copyright 2026 The tfp-mvhg authors.
# SPDX-License-Identifier: Apache-2.0
"""Demo on an offline default: an exact noncentral MVHG, its samples, log-probabilities and moments,
then its relaxed (differentiable) sampler and the straight-through gradient of E[X].

Compares against the paper's merged-class approximation on the configuration where it fails.
Run: `make demo` (or `.venv/bin/python scripts/demo.py`).
"""

import numpy as np
import tensorflow as tf

import tfp_mvhg


def main():
    num_per_class, total_count, weights = [200., 200., 200.], 180., [1., 5., 1.]
    dist = tfp_mvhg.MultivariateHypergeometric(
        num_per_class, total_count, weights=tf.constant(weights, tf.float64))
    print(dist)
    print(f"m = {num_per_class}, n = {total_count:g}, omega = {weights}\n")

    samples = dist.sample(100000, seed=(2023, 5))
    print("five exact samples and their log-probabilities:")
    for row, log_prob in zip(samples[:5].numpy(), dist.log_prob(samples[:5]).numpy(), strict=True):
        print(f"  x = {row.astype(int)}   log p(x) = {log_prob:.4f}")

    mean, covariance = dist.mean().numpy(), dist.covariance().numpy()
    print("\nexact mean      ", np.round(mean, 4))
    print("sample mean     ", np.round(samples.numpy().mean(0), 4), "(100000 samples)")
    print("exact covariance\n", np.round(covariance, 4))
    print("sample covariance\n", np.round(np.cov(samples.numpy().T), 4))
    print(f"\nlog normalizer log P0 = {dist.log_normalizer().numpy():.6f}")

    central = tfp_mvhg.MultivariateHypergeometric(
        num_per_class, total_count, weights=tf.ones(3, tf.float64))
    print(f"KL(noncentral || central) = {tfp_mvhg.kl_divergence(dist, central).numpy():.6f}")

    fisher = tfp_mvhg.FisherNoncentralHypergeometric(
        200., 400., 180., odds=tf.constant(1. / 3., tf.float64))
    print(f"\nE[X_1] exact = {mean[0]:.4f}; the paper's merged scheme (class 1 against one class "
          f"of 400 items at mean weight 3) gives {fisher.mean().numpy():.4f}")
    relaxed_demo(num_per_class, total_count, weights, covariance)


def relaxed_demo(num_per_class, total_count, weights, covariance):
    """Relaxed samples and the straight-through Jacobian d E[X] / d logits (= Cov[X] exactly)."""
    logits = tf.Variable(np.log(weights), dtype=tf.float32)

    @tf.function(jit_compile=True)
    def mean_and_jacobian(seed):
        with tf.GradientTape(persistent=True) as tape:
            dist = tfp_mvhg.RelaxedMultivariateHypergeometric(
                num_per_class, total_count, temperature=1.0, logits=logits)
            mean = tf.unstack(tf.reduce_mean(dist.sample(50000, seed=seed), axis=0))
        return tf.stack(mean), tf.stack([tape.gradient(mean_i, logits) for mean_i in mean])

    soft = tfp_mvhg.RelaxedMultivariateHypergeometric(
        num_per_class, total_count, temperature=0.5, weights=weights, hard=False)
    print("\nrelaxed soft counts (tau = 0.5; each row sums to 180):")
    print(np.round(soft.sample(3, seed=(7, 7)).numpy(), 3))
    mean, jacobian = mean_and_jacobian(tf.constant([3, 4]))
    print("straight-through sample mean (hard, 50000 samples)", np.round(mean.numpy(), 3))
    print("straight-through d E[X] / d logits (tau = 1)\n", np.round(jacobian.numpy(), 3))
    print("exact Cov[X] (= d E[X] / d logits)\n", np.round(covariance, 3))


if __name__ == "__main__":
    main()
