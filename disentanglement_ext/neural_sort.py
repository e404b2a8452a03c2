# Copyright 2026 The tfp-mvhg authors.
# SPDX-License-Identifier: Apache-2.0
"""NeuralSort: a continuous relaxation of sorting (Grover, Wang, Zweig, Ermon; ICLR 2019).

HGVAE sorts the per-dimension divergences gamma between the two views in descending order and
takes the top k_hat as independent dimensions; NeuralSort makes that
sort differentiable.

#### Mathematical details

For scores s in R^d, let A be the matrix of absolute pairwise differences, A[j, k] = |s_j - s_k|,
and 1 the all-ones vector. The relaxed permutation matrix P_hat in R^{d x d} has rows (i = 1..d)

    P_hat[i, :] = softmax( ((d + 1 - 2 i) s - A 1) / tau ).

Each row sums to 1 (P_hat is unimodal row-stochastic). The row-wise argmax of P_hat is the
permutation that sorts s in *descending* order, for every tau > 0, and P_hat converges to that
permutation matrix P as tau -> 0+: row i is (close to) the one-hot of the index of the i-th largest
score, so P_hat @ s ~ sort(s, descending) and, for any values v, P_hat @ v is v in that order.

Variants:
  hard=True: straight-through. The forward value is the exact permutation matrix P (row i = one-hot
    of the index of the i-th largest score, ties broken by the lower index; equal to the row-wise
    argmax of P_hat for distinct scores); the gradient is that of P_hat
    (P + (P_hat - stop_gradient(P_hat)), the bracket being exactly 0 in the forward pass).
  gumbel_neural_sort: the scores are read as log-scores of a Plackett-Luce distribution over
    permutations; adding i.i.d. Gumbel(0, 1) noise g (stateless seed) and sorting s + g draws a
    Plackett-Luce permutation, relaxed by NeuralSort (Grover et al. section 4, "Stochastic").

Shapes: scores [..., d] -> [..., d, d] (any leading batch dimensions, e.g. [batch, d]).
"""
import numpy as np
import tensorflow as tf


def _scores_tensor(scores):
    scores = tf.convert_to_tensor(scores, dtype_hint=tf.float32, name="scores")
    if not scores.dtype.is_floating:
        raise ValueError(f"scores must be a floating-point tensor, got dtype {scores.dtype.name}.")
    if scores.shape.rank is not None and scores.shape.rank < 1:
        raise ValueError(f"scores must have shape [..., d] (rank >= 1), got shape {scores.shape}.")
    if scores.shape.rank is not None and scores.shape[-1] == 0:
        raise ValueError(f"scores must have d >= 1 entries in the last axis, got shape "
                         f"{scores.shape}.")
    return scores


def _tau_tensor(tau, dtype, validate_args):
    tau_value = tf.get_static_value(tau) if not isinstance(tau, tf.Variable) else None
    if tau_value is not None:
        tau_value = np.asarray(tau_value)
        if tau_value.shape != ():
            raise ValueError(f"tau must be a scalar, got shape {tau_value.shape}.")
        if not np.isfinite(tau_value) or tau_value <= 0:
            raise ValueError(f"tau must be a positive finite temperature, got {tau_value}.")
    # Convert Python numbers straight to `dtype` (via float32 a float64 tau would lose digits).
    tau = tf.cast(tf.convert_to_tensor(tau, dtype_hint=dtype, name="tau"), dtype)
    if tau.shape.rank is not None and tau.shape.rank != 0:
        raise ValueError(f"tau must be a scalar, got shape {tau.shape}.")
    if validate_args:
        with tf.control_dependencies([tf.debugging.assert_positive(
                tau, message="tau must be a positive temperature")]):
            tau = tf.identity(tau)
    return tau


def permutation_matrix(scores):
    """The exact permutation matrix sorting `scores` in descending order (no gradient).

    Row i is the one-hot of the index of the i-th largest score (ties: lower index first), so
    `permutation_matrix(s) @ s[..., None]` is s sorted descending.

    Args:
      scores: float tensor [..., d].

    Returns:
      Tensor [..., d, d] of 0s and 1s, dtype of `scores`.
    """
    scores = _scores_tensor(scores)
    order = tf.argsort(scores, axis=-1, direction="DESCENDING", stable=True)
    return tf.one_hot(order, tf.shape(scores)[-1], dtype=scores.dtype)


def neural_sort(scores, tau, hard=False, validate_args=False, name=None):
    """Relaxed permutation matrix sorting `scores` in descending order (see the module docstring).

    P_hat[..., i, :] = softmax(((d + 1 - 2 i) s - A 1) / tau), i = 1..d, A[j, k] = |s_j - s_k|.

    Args:
      scores: float tensor [..., d], e.g. [batch, d].
      tau: positive scalar temperature (float, scalar tensor or tf.Variable, e.g. annealed).
        Smaller tau is closer to the exact permutation, with larger gradient variance.
      hard: if True, the forward value is the exact permutation matrix and the gradient is that of
        the relaxation (straight-through).
      validate_args: if True, also check tau > 0 at run time (it is always checked when its value
        is known when the graph is built).
      name: optional name scope.

    Returns:
      Tensor [..., d, d], dtype of `scores`; every row sums to 1.

    Raises:
      ValueError: if `scores` is not floating point or has rank 0 or d = 0 (naming `scores`), or a
        statically known `tau` is not a positive finite scalar (naming `tau`).
    """
    with tf.name_scope(name or "neural_sort"):
        scores = _scores_tensor(scores)
        tau = _tau_tensor(tau, scores.dtype, validate_args)
        dtype = scores.dtype
        d = tf.shape(scores)[-1]
        # A 1: row sums of the pairwise absolute differences, one entry per score.   [..., d]
        abs_diff_sums = tf.reduce_sum(
            tf.abs(scores[..., :, tf.newaxis] - scores[..., tf.newaxis, :]), axis=-1)
        # (d + 1 - 2 i) for i = 1..d.                                                 [d]
        scaling = tf.cast(d + 1, dtype) - 2. * tf.range(1, d + 1, dtype=dtype)
        logits = (scaling[:, tf.newaxis] * scores[..., tf.newaxis, :]
                  - abs_diff_sums[..., tf.newaxis, :])                          # [..., d, d]
        soft = tf.nn.softmax(logits / tau, axis=-1)
        if not hard:
            return soft
        # (soft - stop_gradient(soft)) is exactly 0 in the forward pass, so the value is exactly P.
        return permutation_matrix(scores) + (soft - tf.stop_gradient(soft))


def gumbel_noise(shape, seed, dtype=tf.float32):
    """i.i.d. standard Gumbel samples -log(-log u), u ~ U(0, 1), from a stateless seed.

    Args:
      shape: output shape.
      seed: stateless seed: an int, or a shape-[2] integer tensor/pair.
      dtype: floating dtype.

    Raises:
      ValueError: naming `seed`, if it is not an int or a pair of ints.
    """
    seed = _stateless_seed(seed)
    dtype = tf.as_dtype(dtype)
    tiny = np.finfo(dtype.as_numpy_dtype).tiny
    # A fixed algorithm: "auto_select" may pick different ones with and without XLA.
    u = tf.random.stateless_uniform(shape, seed, minval=tiny, maxval=1., dtype=dtype,
                                    alg="philox")
    return -tf.math.log(-tf.math.log(u))


def _stateless_seed(seed):
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool):
        return tf.constant([int(seed), 0], tf.int64)
    seed = tf.convert_to_tensor(seed, name="seed")
    if not seed.dtype.is_integer or (seed.shape.rank is not None and seed.shape != [2]):
        raise ValueError(f"seed must be an int or a pair of ints (shape [2]), got "
                         f"{seed.dtype.name} of shape {seed.shape}.")
    return seed


def gumbel_neural_sort(scores, tau, seed, hard=False, validate_args=False, name=None):
    """NeuralSort of Gumbel-perturbed scores: a relaxed Plackett-Luce permutation sample.

    Returns `neural_sort(scores + g, tau, hard)` with g ~ Gumbel(0, 1) i.i.d. of the shape of
    `scores`, drawn from the stateless `seed` (same seed, same sample; eager, tf.function and XLA
    alike). The sort is descending; `scores` are log-scores (logits) of the Plackett-Luce
    distribution, so the first row picks index j with probability softmax(scores)_j.

    Args:
      scores: float tensor [..., d].
      tau: positive scalar temperature.
      seed: stateless seed, an int or a shape-[2] integer tensor.
      hard: straight-through variant (forward: the exact permutation of the perturbed scores).
      validate_args, name: as `neural_sort`.

    Returns:
      Tensor [..., d, d]; rows sum to 1.

    Raises:
      ValueError: as `neural_sort`, or naming `seed`.
    """
    with tf.name_scope(name or "gumbel_neural_sort"):
        scores = _scores_tensor(scores)
        perturbed = scores + gumbel_noise(tf.shape(scores), seed, scores.dtype)
        return neural_sort(perturbed, tau, hard=hard, validate_args=validate_args)
