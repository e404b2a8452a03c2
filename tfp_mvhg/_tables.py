"""Log-space generating-function tables for the multivariate Fisher noncentral hypergeometric.

With classes i = 0..c-1, m_i items and log-weights theta_i, the suffix tables are

    q_i[k] = log [t^k] prod_{j >= i} (1 + exp(theta_j) t)^{m_j},      k = 0..K-1,
    q_c[k] = 0 if k == 0 else -inf,
    q_i[k] = logsumexp_x ( log C(m_i, x) + x theta_i + q_{i+1}[k - x] ),   x = 0..min(m_i, k),

so that log P0 = q_0[n]. The summands above, seen as a function of x for a fixed remaining count k,
are the unnormalized logits of the exact conditional P(X_i = x | X_<i) with k = n - sum_{j<i} x_j;
`class_logits` returns them for every k at once (a Toeplitz gather, `[K, W, B]`: the exact
sampler's CDFs), and `log_convolve` reduces them to q_i block by block, with a gradient that
recomputes them instead of storing them (the normalizer, the mean and the relaxed sampler).

All functions work on flattened batches: parameters are `[B, c]`, tables `[c + 1, K, B]`.
"""

import functools

import numpy as np
import tensorflow as tf
from tensorflow.python.ops import control_flow_util  # XLA context test (TF 2.15-2.21)

__all__ = ["log_binomial", "log_class_term", "safe_reduce_logsumexp", "log_convolve",
           "class_logits", "count_at_most", "draw_by_inverse_cdf",
           "compiled_when_eager", "suffix_log_tables", "log_normalizer", "moments_by_sweeps",
           "marginal_log_probs",
           "sample_exact_counts",
           "stateless_open_uniform", "uniform_from_bits"]


def _neg_inf_like(x):
    return tf.fill(tf.shape(x), tf.constant(-float("inf"), x.dtype))


def uniform_from_bits(words, dtype):
    """Maps random int64 words to the open interval (0, 1), exactly representable in `dtype`.

    The top b bits (b = 23 for float32, 52 for float64) give k; the value is `(2 k + 1) 2^-(b+1)`,
    so the largest is `1 - 2^-(b+1)` < 1 and `-log(-log(u))` stays finite.
    """
    bits = 52 if dtype == tf.float64 else 23
    k = tf.bitwise.right_shift(words, 64 - bits) & ((1 << bits) - 1)
    return (2. * tf.cast(k, dtype) + 1.) * 2. ** -(bits + 1)  # exact: 2 k + 1 < 2^(bits + 1)


def stateless_open_uniform(shape, seed, dtype):
    """Uniforms in (0, 1) from Philox bits: the same values eagerly and under XLA.

    (`tf.random.stateless_uniform` gives different floats under XLA on TF 2.15, while its raw
    integers agree.)
    """
    words = tf.random.stateless_uniform(shape, seed=seed, dtype=tf.int64, minval=None,
                                        maxval=None, alg="philox")
    return uniform_from_bits(words, dtype)


def log_binomial(total, k):
    """log C(total, k), broadcasting; -inf where k < 0 or k > total, with finite gradients."""
    shape = tf.broadcast_dynamic_shape(tf.shape(total), tf.shape(k))
    total, k = tf.broadcast_to(total, shape), tf.broadcast_to(k, shape)
    valid = (k >= 0.) & (k <= total)
    safe_k = tf.where(valid, k, tf.zeros_like(k))
    value = (tf.math.lgamma(total + 1.) - tf.math.lgamma(safe_k + 1.)
             - tf.math.lgamma(total - safe_k + 1.))
    return tf.where(valid, value, _neg_inf_like(value))


def log_class_term(total, k, theta):
    """log [C(total, k) omega^k] = log C(total, k) + k theta, broadcasting.

    `k = 0` gives log C(total, 0) even when theta = -inf (weight 0: the class is never drawn, and
    drawing none of it has weight 1), with finite gradients in k and theta.
    """
    drawn = k > 0.
    safe_theta = tf.where(drawn, theta, tf.zeros_like(theta))
    power = tf.where(drawn, k * safe_theta, tf.zeros_like(safe_theta))
    return log_binomial(total, k) + power


def safe_reduce_logsumexp(x, axis, keepdims=False):
    """logsumexp over `axis`; a slice of all -inf gives -inf with a zero (not NaN) gradient."""
    raw_max = tf.reduce_max(x, axis=axis, keepdims=True)
    shift = tf.stop_gradient(tf.where(tf.math.is_finite(raw_max), raw_max, tf.zeros_like(raw_max)))
    total = tf.reduce_sum(tf.exp(x - shift), axis=axis, keepdims=True)
    positive = total > 0.
    safe_total = tf.where(positive, total, tf.ones_like(total))
    result = tf.where(positive, tf.math.log(safe_total) + shift, _neg_inf_like(total))
    return result if keepdims else tf.squeeze(result, axis=axis)


def class_logits(q_next, num_i, theta_i, window):
    """Unnormalized log P(X_i = x | k remaining) for every k: `[K, W, B]`.

    Tables are k-major (`[K, B]`) so that the Toeplitz gather is on axis 0 and no transposes
    appear inside the scans (the sampler's and the moment sweeps').

    Args:
      q_next: `[K, B]` suffix table q_{i+1}.
      num_i: `[B]` items m_i of class i.
      theta_i: `[B]` log-weight of class i.
      window: W, a bound with W - 1 >= min(max m_i, K - 1); entries x > min(m_i, k) are -inf.
    """
    table_size = tf.shape(q_next)[0]
    x = tf.range(window)
    shift = tf.range(table_size)[:, None] - x[None, :]                       # [K, W]: k - x
    x = tf.cast(x, q_next.dtype)[:, None]
    coefficient = log_class_term(num_i[None, :], x, theta_i[None, :])       # [W, B]
    terms = coefficient[None] + tf.gather(q_next, tf.maximum(shift, 0))     # [K, W, B]
    return tf.where(shift[:, :, None] >= 0, terms, _neg_inf_like(terms))


# Log-space convolution with a recomputing gradient: one [K, chunk, B] block in memory at a time.
_CHUNK_ELEMENTS = 1 << 22


def _static_or_dynamic(dim, tensor, axis):
    return dim if dim is not None else tf.shape(tensor)[axis]


def _chunks(window, elements_per_x):
    """(chunk C, number of chunks): C of the W x-values per block, so that a block holds
    C * `elements_per_x` <= 2^22 elements (C >= 1); Python ints when both sizes are."""
    if isinstance(window, int) and isinstance(elements_per_x, int):
        chunk = max(1, min(window, _CHUNK_ELEMENTS // max(elements_per_x, 1)))
        return chunk, -(-window // chunk)
    chunk = tf.clip_by_value(_CHUNK_ELEMENTS // tf.maximum(elements_per_x, 1), 1,
                             tf.maximum(window, 1))
    return chunk, (window + chunk - 1) // chunk


def _chunking(coefficient, table):
    """(K, W, chunk C, number of chunks): C x-values per block so that K C B <= 2^22 (C >= 1)."""
    table_size = _static_or_dynamic(tf.compat.dimension_value(table.shape[0]), table, 0)
    window = _static_or_dynamic(tf.compat.dimension_value(coefficient.shape[0]), coefficient, 0)
    batch = _static_or_dynamic(tf.compat.dimension_value(table.shape[1]), table, 1)
    return (table_size, window) + _chunks(window, table_size * batch)


def _chunk_loop(body, num_chunks, initial):
    """Threads `initial` through `carry, block = body(i, *carry)` for i = 0..num_chunks-1; returns
    `(carry, the blocks concatenated on axis 0)`. One block: plain ops. Else a while loop running
    one iteration at a time (unrolled blocks, or parallel iterations, would all be in memory at
    once in a graph), with the blocks in a TensorArray."""
    if isinstance(num_chunks, int) and num_chunks == 1:
        carry, blocks = tuple(initial), []
        for i in range(num_chunks):
            carry, block = body(i, *carry)
            blocks.append(block)
        return carry, tf.concat(blocks, axis=0)

    def loop_body(i, blocks, *carry):
        carry, block = body(i, *carry)
        return (i + 1, blocks.write(i, block)) + tuple(carry)

    blocks = tf.TensorArray(initial[0].dtype, size=num_chunks, infer_shape=True)
    _, blocks, *carry = tf.while_loop(lambda i, *_: i < num_chunks, loop_body,
                                      (tf.constant(0), blocks) + tuple(initial),
                                      maximum_iterations=num_chunks, parallel_iterations=1)
    stacked = blocks.stack()
    return tuple(carry), tf.reshape(stacked, tf.concat([[-1], tf.shape(stacked)[2:]], 0))


def log_convolve(coefficient, table, output_offset=0):
    """`y[k] = logsumexp_x (coefficient[x] + table[d + k - x])`, x = 0..min(W - 1, d + k), for
    k = 0..K - d - 1 (d = `output_offset`): `[K - d, B]`.

    The log-space convolution of one class step of the suffix tables (`coefficient[x] =
    log C(m_i, x) + x theta_i`, `table = q_{i+1}`), computed C x-values at a time (a
    `[K - d, C, B]` block with K C B <= 2^22, combined by a running log-sum-exp); the outputs
    below d are not computed. The gradient recomputes the conditionals `P[k, x] =
    exp(coefficient[x] + table[d + k - x] - y[k])` block by block instead of storing them:

        dL/dtable[j] = sum_x g[j + x - d] P[j + x - d, x],
        dL/dcoefficient[x] = sum_j g[j + x - d] P[j + x - d, x],

    so forward and backward keep O(K B + W B) memory besides one block (the backward visits
    only the K - d + C - 1 table entries a block of x reaches). The gradient is built from
    differentiable ops, so second derivatives work (outside XLA, which does not compile them
    through the table scan; the covariance needs none, see `moments_by_sweeps`). -inf entries
    (impossible counts, weight 0) give zero, not NaN, gradients; a row of y that is -inf gets
    none.

    Args:
      coefficient: `[W, B]` float64.
      table: `[K, B]` float64.
      output_offset: d, 0 <= d < K, a Python int or an int32 scalar.
    """
    @tf.custom_gradient
    def convolve(coefficient, table):
        return _log_convolve(coefficient, table, output_offset)

    return convolve(coefficient, table)


def _log_convolve(coefficient, table, offset):
    """`log_convolve`'s forward pass and gradient function."""
    table_size, window, chunk, num_chunks = _chunking(coefficient, table)
    neg_inf = tf.constant(-np.inf, table.dtype)
    padded = tf.concat([coefficient, tf.fill([chunk * num_chunks - window, tf.shape(table)[1]],
                                             neg_inf)], axis=0)                   # [C n_c, B]
    no_offset = isinstance(offset, int) and offset == 0
    output_size = table_size - offset
    k = offset + tf.range(output_size)[:, None]                                   # table index

    def block(i):
        x = i * chunk + tf.range(chunk)[None, :]                                  # [1, C]
        return tf.gather(padded, x[0]), x

    def forward(i, peak, total):
        coefficient_x, x = block(i)
        shift = k - x                                                             # [K - d, C]
        terms = coefficient_x[None] + tf.gather(table, tf.maximum(shift, 0))     # [K - d, C, B]
        terms = tf.where(shift[:, :, None] >= 0, terms, neg_inf)
        new_peak = tf.maximum(peak, tf.reduce_max(terms, axis=1))
        reference = tf.where(tf.math.is_finite(new_peak), new_peak, tf.zeros_like(new_peak))
        total = (total * tf.exp(peak - reference)
                 + tf.reduce_sum(tf.exp(terms - reference[:, None]), axis=1))
        return (new_peak, total), tf.zeros([0], table.dtype)  # no per-block output

    initial = tf.fill([output_size, tf.shape(table)[1]], neg_inf)
    (peak, total), _ = _chunk_loop(forward, num_chunks, (initial, tf.zeros_like(initial)))
    positive = total > 0.
    peak = tf.where(positive, peak, tf.zeros_like(peak))
    log_total = tf.math.log(tf.where(positive, total, tf.ones_like(total)))
    result = tf.where(positive, log_total + peak, neg_inf)

    def gradient(upstream):
        # exp(summand - y) as exp((summand - peak) - log_total): y = peak + log_total rounded would
        # cost a relative error of eps |y|; the zero `result - stop_gradient(result)` carries the
        # derivative in y for second derivatives.
        finite = tf.math.is_finite(result)
        shifted = (tf.stop_gradient(peak) + (tf.where(finite, result, tf.zeros_like(result))
                                             - tf.stop_gradient(tf.where(finite, result,
                                                                         tf.zeros_like(result)))))
        upstream = tf.where(finite, upstream, tf.zeros_like(upstream))
        scale = tf.stop_gradient(log_total)
        # the table entries block i reaches: all (d = 0), else j0 + 0..K - d + C - 2
        reach = table_size if no_offset else output_size + chunk - 1

        def backward(i, table_grad):
            coefficient_x, x = block(i)
            start = 0 if no_offset else offset - i * chunk - (chunk - 1)
            j = start + tf.range(reach)[:, None]                                  # [L, 1]
            target = j + x - offset                                               # [L, C]: k
            inside = (target >= 0) & (target < output_size) & (j >= 0) & (j < table_size)
            target = tf.clip_by_value(target, 0, output_size - 1)
            rows = tf.clip_by_value(j[:, 0], 0, table_size - 1)
            exponent = (coefficient_x[None] + tf.gather(table, rows)[:, None]
                        - tf.gather(shifted, target) - tf.gather(scale, target))
            exponent = tf.where(inside[:, :, None], exponent, neg_inf)
            weighted = tf.gather(upstream, target) * tf.exp(exponent)            # [L, C, B]
            rows_grad = tf.reduce_sum(weighted, axis=1)
            if no_offset:
                table_grad += rows_grad
            else:
                table_grad = tf.tensor_scatter_nd_add(table_grad, rows[:, None], rows_grad)
            return (table_grad,), tf.reduce_sum(weighted, axis=0)

        (table_grad,), coefficient_grad = _chunk_loop(backward, num_chunks, (tf.zeros_like(table),))
        return coefficient_grad[:window], table_grad

    return result, gradient


def compiled_when_eager(fn):
    """Runs `fn` as a tf.function when called eagerly (no op-by-op loops over classes and
    samples; one trace per (K, W) and input signature), and as plain ops inside a caller's graph.
    The samplers, the windowed normalizer and the covariance sweeps use it; for log_prob and the
    mean, tracing once per new configuration costs more than it saves."""
    compiled = tf.function(fn, autograph=False, reduce_retracing=True)

    @functools.wraps(fn)
    def wrapper(*args):
        return compiled(*args) if tf.executing_eagerly() else fn(*args)

    return wrapper


def suffix_log_tables(num_per_class, logits, table_size, window, first=0):
    """Suffix tables q_first..q_c, k-major: `[c + 1 - first, K, B]` (K = `table_size`).

    q_c is the boundary and q_{c-1}[k] = log C(m_{c-1}, k) + k theta_{c-1} directly (its
    convolution with the boundary is a copy), so only classes first..c-2 cost a class step, a
    `log_convolve` (memory O(K B + W B) per class for the backward pass).

    Args:
      num_per_class: `[B, c]` float, integer-valued m.
      logits: `[B, c]` float, theta = log omega.
      table_size: K = max n + 1 (a Python int keeps shapes static for XLA).
      window: W = min(max m, max n) + 1.
      first: the first table returned, 0 or 1 (the sampler needs q_1..q_c only).
    """
    batch = tf.shape(logits)[0]
    first_count = tf.equal(tf.range(table_size), 0)  # `==` is identity, not elementwise, in TF1
    boundary = tf.where(first_count, tf.zeros([table_size], logits.dtype),
                        tf.fill([table_size], tf.constant(-float("inf"), logits.dtype)))
    boundary = tf.broadcast_to(boundary[:, None], [table_size, batch])
    k = tf.cast(tf.range(table_size), logits.dtype)[:, None]
    last = log_class_term(num_per_class[None, :, -1], k, logits[None, :, -1])       # q_{c-1}
    x = tf.cast(tf.range(window), logits.dtype)[:, None]

    def step(q_next, params):
        num_i, theta_i = params
        q_i = log_convolve(log_class_term(num_i[None, :], x, theta_i[None, :]), q_next)
        return tf.ensure_shape(q_i, q_next.shape)  # a dynamic K must not loosen the loop shape

    num_classes = tf.compat.dimension_value(logits.shape[-1])
    if num_classes is None:  # the plain scan over every class from the boundary
        tables = tf.scan(step, (tf.transpose(num_per_class), tf.transpose(logits)),
                         initializer=boundary, reverse=True)
        return tf.concat([tables, boundary[None]], axis=0)[first:]
    last = tf.ensure_shape(last, boundary.shape)
    tables = [last[None], boundary[None]]
    if num_classes - 1 - first > 0:  # (an empty scan cannot stack a dynamic batch)
        tables.insert(0, tf.scan(step, (tf.transpose(num_per_class)[first:-1],
                                        tf.transpose(logits)[first:-1]),
                                 initializer=last, reverse=True))
    return tf.concat(tables, axis=0)[max(first + 1 - num_classes, 0):]  # c = first = 1: q_1


def log_normalizer(num_per_class, logits, total_count, table_size, window):
    """log P0 = q_0[n] = logsumexp_x (log C(m_0, x) + x theta_0 + q_1[n - x]): `[B]`.

    Only q_1..q_c are full tables; q_0 is needed at k = n alone (O(W B) instead of O(K W B)).

    Args:
      total_count: `[B]` float, integer-valued n, 0 <= n < K.
      Others: as for `suffix_log_tables`.
    """
    x = tf.range(window)
    rest = tf.cast(total_count, tf.int32)[None, :] - x[:, None]                     # [W, B]
    coefficient = log_class_term(num_per_class[None, :, 0], tf.cast(x, logits.dtype)[:, None],
                                 logits[None, :, 0])
    q_1 = suffix_log_tables(num_per_class, logits, table_size, window, first=1)[0]                                              # [K, B]
    batch_index = tf.broadcast_to(tf.range(tf.shape(rest)[1])[None, :], tf.shape(rest))
    rest_table = tf.gather_nd(q_1, tf.stack([tf.clip_by_value(rest, 0, table_size - 1),
                                             batch_index], axis=-1))
    terms = tf.where(rest >= 0, coefficient + rest_table, _neg_inf_like(coefficient))
    return safe_reduce_logsumexp(terms, axis=0)


def _transitions(q_i, q_next, num_i, theta_i, window):
    """P(X_i = x | S_i = s) for every s and x: `[K, W, B]`, 0 where impossible (s - x < 0, x >
    m_i, or a remaining count s that cannot occur)."""
    logits = class_logits(q_next, num_i, theta_i, window)
    possible = tf.math.is_finite(q_i)[:, None, :] & tf.math.is_finite(logits)
    shift = tf.where(tf.math.is_finite(q_i), q_i, tf.zeros_like(q_i))[:, None, :]
    return tf.where(possible, tf.exp(tf.where(possible, logits, tf.zeros_like(logits)) - shift),
                    tf.zeros_like(logits))


def moments_by_sweeps(num_per_class, logits, total_count, table_size, window):
    """E[X] `[B, c]` and Cov[X] `[B, c, c]` from the chain of exact conditionals, without
    derivatives: one forward and one backward sweep over the classes.

    With S_i = sum_{j >= i} X_j the remaining count (a Markov chain, S_0 = n) and the transitions
    P_i[s, x] = P(X_i = x | S_i = s) = C(m_i, x) omega_i^x exp(q_{i+1}[s - x] - q_i[s]):

        forward:  pi_{i+1}[s'] = sum_x pi_i[s' + x] P_i[s' + x, x],
                  mu_i = sum_s pi_i[s] sum_x P_i[s, x] x;
        backward: H_i[s, j] = E[X_j | S_i = s] - mu_j (0 for j < i),
                  H_i[s, j] = sum_x P_i[s, x] H_{i+1}[s - x, j] + [j = i] (sum_x P_i[s, x] x - mu_i),
                  Cov[X_i, X_j] = sum_s pi_i[s] sum_x P_i[s, x] (x - mu_i) H_{i+1}[s - x, j] (j > i),
                  Var[X_i] = sum_s pi_i[s] sum_x P_i[s, x] (x - mu_i)^2,

    since given S_{i+1} the later counts do not depend on X_i. All c columns are carried at once:
    O(c^2 K W) work in one pass and O(c K B + K W B) memory (the x sums go C values at a time,
    K C c B <= 2^22), instead of the c backward passes of a Hessian.

    Args:
      num_per_class, logits: `[B, c]` float64.
      total_count: `[B]` float64.
      table_size, window: K and W as in `suffix_log_tables`.
    """
    num_classes = tf.compat.dimension_value(logits.shape[-1])
    if num_classes is None:
        num_classes = tf.shape(logits)[-1]
    suffix = suffix_log_tables(num_per_class, logits, table_size, window)       # [c+1, K, B]
    batch = tf.shape(logits)[0]
    x_int = tf.range(window)
    x = tf.cast(x_int, tf.float64)
    s = tf.range(table_size)[:, None]                                             # [K, 1]
    params = (suffix[:-1], suffix[1:], tf.transpose(num_per_class), tf.transpose(logits))

    def forward(carry, elems):
        occupancy, _ = carry                                                      # pi_i [K, B]
        transition = _transitions(*elems, window)                                 # [K, W, B]
        mean = tf.einsum("sb,sxb,x->b", occupancy, transition, x)
        weighted = occupancy[:, None, :] * transition
        source = s + x_int[None, :]                                               # s' + x: [K, W]
        index = tf.stack([tf.minimum(source, table_size - 1),
                          tf.broadcast_to(x_int[None, :], tf.shape(source))], axis=-1)
        moved = tf.gather_nd(weighted, index)                                     # [K, W, B]
        moved = tf.where((source < table_size)[:, :, None], moved, tf.zeros_like(moved))
        return tf.ensure_shape(tf.reduce_sum(moved, axis=1), occupancy.shape), mean

    first = tf.one_hot(tf.clip_by_value(tf.cast(total_count, tf.int32), 0, table_size - 1),
                       table_size, axis=0, dtype=tf.float64)                      # pi_0 [K, B]
    occupancies, means = tf.scan(forward, params,
                                 initializer=(first, tf.zeros([batch], tf.float64)))
    occupancies = tf.concat([first[None], occupancies[:-1]], axis=0)             # pi_0..pi_{c-1}

    static_batch = tf.compat.dimension_value(logits.shape[0])
    chunk, num_chunks = _chunks(window, table_size * num_classes
                                * (static_batch if static_batch is not None else batch))

    def backward(carry, elems):
        later, _ = carry                                                          # H_{i+1}
        q_i, q_next, num_i, theta_i, occupancy, mean_i, column = elems
        transition = _transitions(q_i, q_next, num_i, theta_i, window)            # [K, W, B]
        centred = x[:, None] - mean_i[None, :]                                    # [W, B]

        def block(k, conditional, covariance):
            x_block = k * chunk + tf.range(chunk)
            valid = x_block < window
            x_block = tf.minimum(x_block, window - 1)
            rest = s - x_block[None, :]                                           # [K, C]
            gathered = tf.gather(later, tf.maximum(rest, 0))                      # [K, C, c, B]
            weight = tf.gather(transition, x_block, axis=1)                       # [K, C, B]
            weight = tf.where((rest >= 0)[:, :, None] & valid[None, :, None], weight,
                              tf.zeros_like(weight))
            conditional += tf.einsum("skb,skjb->sjb", weight, gathered)
            coupling = occupancy[:, None, :] * weight * tf.gather(centred, x_block)[None]
            covariance += tf.einsum("skb,skjb->jb", coupling, gathered)
            return (conditional, covariance), tf.zeros([0], tf.float64)

        (conditional, covariance), _ = _chunk_loop(
            block, num_chunks, (tf.zeros_like(later), tf.zeros([num_classes, batch], tf.float64)))
        own = tf.einsum("sxb,xb->sb", transition, centred)                        # E[X_i|s] - mu_i
        variance = tf.einsum("sb,sxb,xb->b", occupancy, transition, centred ** 2)
        conditional += own[:, None, :] * column[None, :, None]
        row = covariance + variance[None, :] * column[:, None]
        return tf.ensure_shape(conditional, later.shape), tf.ensure_shape(row, row_shape)

    later = tf.zeros([table_size, num_classes, batch], tf.float64)
    row_shape = [num_classes if isinstance(num_classes, int) else None, static_batch]
    _, rows = tf.scan(backward, params + (occupancies, means, tf.eye(num_classes,
                                                                     dtype=tf.float64)),
                      initializer=(later, tf.zeros([num_classes, batch], tf.float64)),
                      reverse=True)                                               # [c, c, B]
    upper = tf.transpose(rows, [2, 0, 1])                                         # [B, c, c]
    covariance = upper + tf.linalg.matrix_transpose(upper) - tf.linalg.diag(
        tf.linalg.diag_part(upper))
    return tf.transpose(means), covariance


def marginal_log_probs(num_per_class, logits, total_count, table_size, window):
    """log P(X_i = x) for every class and x = 0..W-1, `[c, W, B]`, and log P0, `[B]` (float64).

    With prefix tables p_i[k] = log [t^k] prod_{j < i} (1 + omega_j t)^{m_j} (the suffix tables of
    the reversed classes) and the suffix tables q,

        P(X_i = x) = C(m_i, x) omega_i^x [t^{n-x}] prod_{j != i} (...) / P0,
        log [t^k] prod_{j != i} (...) = logsumexp_a (p_i[a] + q_{i+1}[k - a]),

    evaluated only at k = n - x: memory O(W K B) per class (one class at a time).

    Args:
      num_per_class, logits: `[B, c]` float64.
      total_count: `[B]` float64, integer-valued, 0 <= n < K.
      table_size, window: K and W as in `suffix_log_tables`.
    """
    suffix = suffix_log_tables(num_per_class, logits, table_size, window)       # [c+1, K, B]
    prefix = tf.reverse(suffix_log_tables(tf.reverse(num_per_class, [1]), tf.reverse(logits, [1]),
                                          table_size, window), [0])           # p_0..p_c
    n = tf.cast(total_count, tf.int32)
    x = tf.range(window)
    a = tf.range(table_size)
    rest = n[None, None, :] - x[:, None, None] - a[None, :, None]                # [W, K, B]: n-x-a
    batch_index = tf.broadcast_to(tf.range(tf.shape(n)[0])[None, None, :], tf.shape(rest))
    log_norm = tf.gather(tf.transpose(suffix[0]), tf.clip_by_value(n, 0, table_size - 1),
                         batch_dims=1)                                           # [B]

    def one_class(params):
        prefix_i, suffix_next, num_i, theta_i = params                          # [K, B] x2, [B] x2
        flat = tf.reshape(suffix_next, [-1])
        terms = tf.gather(flat, tf.maximum(rest, 0) * tf.shape(suffix_next)[1] + batch_index)
        terms = tf.where(rest >= 0, prefix_i[None] + terms, _neg_inf_like(terms))
        leave_one_out = safe_reduce_logsumexp(terms, axis=1)                  # [W, B]
        coefficient = log_class_term(num_i[None, :], tf.cast(x, num_i.dtype)[:, None],
                                     theta_i[None, :])
        return coefficient + leave_one_out - log_norm[None, :]

    marginals = tf.map_fn(one_class, (prefix[:-1], suffix[1:], tf.transpose(num_per_class),
                                       tf.transpose(logits)), fn_output_signature=tf.float64)
    return marginals, log_norm


def count_at_most(cdf_rows, row, values):
    """#{x : cdf_rows[row, x] <= value} for each (row, value) query: `[N]` int32.

    Args:
      cdf_rows: `[R, W]` float64, each row non-decreasing in [0, 1].
      row: `[N]` int32 row of each query.
      values: `[N]` float64 in [0, 1).

    Outside XLA: one `tf.searchsorted` over all rows laid end to end, row j shifted by +j so the
    whole vector is sorted (queries are row + value). Under XLA, where `searchsorted` over a long
    vector compiles to a quadratic comparison, a binary search of ceil(log2(W + 1)) gathers.
    """
    width = cdf_rows.shape[-1]
    if not control_flow_util.GraphOrParentsInXlaContext(tf.compat.v1.get_default_graph()):
        num_rows = tf.shape(cdf_rows)[0]
        shifted = tf.cast(tf.range(num_rows), tf.float64)[:, None] + cdf_rows
        position = tf.searchsorted(tf.reshape(shifted, [-1]), tf.cast(row, tf.float64) + values,
                                   side="right")
        return position - row * tf.shape(cdf_rows)[1]
    flat = tf.reshape(cdf_rows, [-1])
    row_start = row * tf.shape(cdf_rows)[1]
    low = tf.zeros_like(row)
    high = tf.fill(tf.shape(row), tf.shape(cdf_rows)[1])

    def body(low, high):
        active = low < high
        middle = tf.minimum((low + high) // 2, high - 1)
        go_right = tf.gather(flat, row_start + tf.maximum(middle, 0)) <= values
        return (tf.where(active & go_right, middle + 1, low),
                tf.where(active & ~go_right, middle, high))

    if width is not None:  # static width: unrolled, ceil(log2(width + 1)) halvings
        for _ in range(int(width).bit_length()):
            low, high = body(low, high)
        return low
    low, _ = tf.while_loop(lambda low, high: tf.reduce_any(low < high), body, (low, high))
    return low


def draw_by_inverse_cdf(row_logits, row, values):
    """Inverse-CDF draws: for each query, the column of row `row` where the CDF of the
    normalized `exp(row_logits[row])` first exceeds the uniform: `[N]` int32 (W for a row of
    all -inf, which no drawn state reaches).

    Args:
      row_logits: `[R, W]` float64 unnormalized log-probabilities (-inf: impossible).
      row: `[N]` int32 row of each query.
      values: `[N]` float64 uniforms in [0, 1).
    """
    log_norm = safe_reduce_logsumexp(row_logits, axis=1, keepdims=True)
    probs = tf.exp(row_logits - log_norm)
    probs = tf.where(tf.math.is_finite(probs), probs, tf.zeros_like(probs))  # infeasible rows
    cdf = tf.cumsum(probs, axis=1)
    cdf = cdf / tf.where(cdf[:, -1:] > 0., cdf[:, -1:], tf.ones_like(cdf[:, -1:]))
    return count_at_most(cdf, row, values)


@compiled_when_eager
def sample_exact_counts(num_per_class, logits, total_count, table_size, window, num_samples, seed):
    """Exact sequential draws by inverse CDF on the exact conditionals: `[S, B, c]` int32.

    For each class, the conditional CDFs of X_i for every remaining count r form one table
    `[B, K, W]`; each sample finds its draw in row (b, r) with one uniform (a sorted search):
    memory O(B K W + S B) and O(S B log(B K W)) work per class.

    Args:
      num_per_class, logits: `[B, c]` float64.
      total_count: `[B]` float64.
      table_size, window: K and W as in `suffix_log_tables`.
      num_samples: S.
      seed: stateless seed, `[2]` int32; one Philox uniform per (class, sample, batch member).
    """
    next_tables = suffix_log_tables(num_per_class, logits, table_size, window, first=1)
    batch = tf.shape(logits)[0]
    uniforms = stateless_open_uniform([tf.shape(logits)[1], num_samples, batch], seed, tf.float64)
    row_offset = tf.range(batch) * table_size                                # [B]
    remaining = tf.broadcast_to(tf.cast(total_count, tf.int32), tf.shape(uniforms)[1:])
    num_int = tf.cast(num_per_class, tf.int32)

    def step(carry, elems):
        remaining, _ = carry
        q_next, num_i, num_i_int, theta_i, u = elems
        logits_i = class_logits(q_next, num_i, theta_i, window)              # [K, W, B]
        row_logits = tf.reshape(tf.transpose(logits_i, [2, 0, 1]), [-1, window])  # rows (b, r)
        row = row_offset[None, :] + remaining                                 # [S, B]
        draw = draw_by_inverse_cdf(row_logits, tf.reshape(row, [-1]), tf.reshape(u, [-1]))
        draw = tf.clip_by_value(tf.reshape(draw, tf.shape(remaining)), 0,
                                tf.minimum(num_i_int[None, :], remaining))
        return remaining - draw, draw

    elems = (next_tables, tf.transpose(num_per_class), tf.transpose(num_int),
             tf.transpose(logits), uniforms)
    _, draws = tf.scan(step, elems, initializer=(remaining, tf.zeros_like(remaining)))
    return tf.transpose(draws, [1, 2, 0])
