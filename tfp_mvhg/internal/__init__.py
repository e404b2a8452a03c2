# Copyright 2026 The tfp-mvhg authors.
# SPDX-License-Identifier: Apache-2.0
"""The computations behind the distributions; nothing here is public API.

Shapes: parameters are flattened batches, `num_per_class` and `logits` `[B, c]`, `total_count`
`[B]`; tables are k-major, `[K, B]` per class. K = max n + 1 and W = min(max m, max n) + 1.

  log_space       log C(m, x), class terms, a safe logsumexp, the log-space convolution
  blocks          memory-bounded loops over blocks of x values
  random_bits     Philox uniforms in (0, 1) and inverse-CDF draws
  suffix_tables   the suffix tables q_i, log P0 and the marginals
  moments         E[X] and Cov[X] by sweeps over the exact conditionals
  windows         windowed tables for large n and their error certificate
  exact_sampler   exact sequential draws, on full or windowed tables
  dispatch        windowed or full tables, by cost
  compilation     the loops as tf.functions when called eagerly
  conditionals    the per-class conditionals (exact or merged) and their one class loop
  gumbel_softmax  the relaxed sampler (Algorithm 1) and the density of its one-hots
  distribution_base  the base class of the exact and relaxed distributions
"""
