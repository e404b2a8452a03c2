# Copyright 2026 The tfp-mvhg authors.
# SPDX-License-Identifier: Apache-2.0
"""The base of the exact and relaxed MVHG distributions: parameters, shapes, validation, and
the exact law's log_prob, log normalizer, samples and statistics.

An urn holds m_i items of class i = 0..c-1 with weights omega_i = exp(theta_i); the MVHG is

    pmf(x) = prod_i C(m_i, x_i) omega_i^{x_i} / P0,    sum_i x_i = n,  0 <= x_i <= m_i,
    P0 = [t^n] prod_i (1 + omega_i t)^{m_i},

an exponential family in theta with log-partition A(theta) = log P0: E[X] = grad A and
Cov[X] = hessian A. Internally all tables are float64 on flattened batches (`_flat_params`).
"""

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp
from tensorflow_probability.python.internal import assert_util
from tensorflow_probability.python.internal import dtype_util
from tensorflow_probability.python.internal import parameter_properties
from tensorflow_probability.python.internal import prefer_static as ps
from tensorflow_probability.python.internal import tensor_util

from tfp_mvhg.internal import dispatch
from tfp_mvhg.internal.log_space import log_class_term
from tfp_mvhg.internal.moments import moments_by_sweeps
from tfp_mvhg.internal.suffix_tables import marginal_log_probs

tfd = tfp.distributions

__all__ = ["MultivariateHypergeometricBase", "as_float", "assert_integer_form", "count_assertions",
           "assert_log_weights", "event_shape_assertions", "family_parameter_properties",
           "float_dtype", "kl_divergence"]


def family_parameter_properties(dtype, event_ndims=1, relaxed=False):
    """`ParameterProperties` of the family's parameters, for samples with `event_ndims` event
    dimensions (1: counts `[c]`; 2: one-hots `[c, W]`).

    The counts have no constraining bijector (they are integers), `weights` are positive through
    `Softplus`, and `relaxed` adds `temperature`, positive through `Softplus(low=eps)` as in
    `tfd.RelaxedOneHotCategorical`. The shape functions map a sample's shape
    (`batch_shape + event_shape`) to the parameter's: `[..., c]` per class, `[...]` per member.
    """
    def per_class(shape):
        return shape if event_ndims == 1 else shape[:1 - event_ndims]

    def per_member(shape):
        return shape[:-event_ndims]

    counts = dict(default_constraining_bijector_fn=parameter_properties.BIJECTOR_NOT_IMPLEMENTED)
    properties = dict(
        num_per_class=parameter_properties.ParameterProperties(
            event_ndims=1, shape_fn=per_class, **counts),
        total_count=parameter_properties.ParameterProperties(shape_fn=per_member, **counts),
        logits=parameter_properties.ParameterProperties(event_ndims=1, shape_fn=per_class),
        weights=parameter_properties.ParameterProperties(
            event_ndims=1, shape_fn=per_class,
            default_constraining_bijector_fn=tfp.bijectors.Softplus, is_preferred=False))
    if relaxed:
        properties["temperature"] = parameter_properties.ParameterProperties(
            shape_fn=per_member,
            default_constraining_bijector_fn=(
                lambda: tfp.bijectors.Softplus(low=dtype_util.eps(dtype))))
    return properties


def static_num_classes(num_per_class, class_parameter):
    """c from the static shapes of `num_per_class` and `logits` (or `weights`), else None."""
    def last_size(x):
        shape = tf.TensorShape(getattr(x, "shape", np.shape(x)))
        return None if shape.rank in (None, 0) else tf.compat.dimension_value(shape[-1])

    sizes = [last_size(num_per_class), last_size(class_parameter)]
    if None in sizes:
        return None
    return max(sizes) if 1 in sizes else sizes[0]


def as_float(value, dtype, name):
    """Converts a count argument to `dtype`, keeping variables as references."""
    if value is None or tensor_util.is_ref(value):
        return value
    return tf.cast(tf.convert_to_tensor(value, name=name), dtype)


def _static_max(value):
    if value is None or tensor_util.is_ref(value):
        return None
    static = tf.get_static_value(value)
    if static is None:
        return None
    return max(int(np.max(static)), 0) if np.size(static) else 0


def float_dtype(args, name):
    """The common dtype of `args`; a `TypeError` naming `name` unless it is floating."""
    dtype = dtype_util.common_dtype(args, dtype_hint=tf.float32)
    if not dtype_util.is_floating(dtype):
        raise TypeError(
            f"Argument `{name}` must have a floating dtype, got {dtype_util.name(dtype)}.")
    return dtype


def _drawable_items(num_per_class, logits):
    """sum_i m_i over the classes of positive weight (logit != -inf): `[...]`."""
    has_weight = tf.not_equal(logits, -np.inf)
    return tf.reduce_sum(tf.where(has_weight, num_per_class, tf.zeros_like(num_per_class)), -1)


def assert_integer_form(x, message):
    return assert_util.assert_equal(x, tf.round(x), message=message)


def count_assertions(x, what):
    """Assertions that the counts `x` are non-negative integers; `what` names them in the messages
    (e.g. "`total_count`")."""
    return [assert_util.assert_non_negative(x, message=f"{what} must be non-negative."),
            assert_integer_form(x, message=f"{what} must be integer-valued.")]


def assert_log_weights(x, message):
    """Log-weights may be -inf (weight 0) but neither NaN nor +inf."""
    return assert_util.assert_equal(
        tf.reduce_all(~tf.math.is_nan(x) & (x < np.inf)), True, message=message)


def event_shape_assertions(value, event_shape, event_shape_tensor, meaning, validate_args):
    """Checks that `value`'s last dimensions are `event_shape` (of known rank).

    Raises a `ValueError` naming the expected sizes where the shapes are known statically;
    otherwise returns assertions (`InvalidArgumentError` at run time) if `validate_args`.

    Args:
      value: `Tensor`, the argument of `log_prob`.
      event_shape: `TensorShape` of known rank, the event shape (dimensions may be unknown).
      event_shape_tensor: callable returning the event shape as a `Tensor`.
      meaning: what the event dimensions are, e.g. "the number of classes".
      validate_args: whether to return run-time assertions for what is not known statically.
    """
    event_ndims = len(event_shape)
    expected = [tf.compat.dimension_value(d) for d in event_shape]

    def sizes(dims):  # "3" for one dimension, "[3, ?]" for two, one of them unknown
        text = ", ".join("?" if d is None else str(d) for d in dims)
        return text if event_ndims == 1 else f"[{text}]"

    what = (f"`value`'s last {'dimension' if event_ndims == 1 else f'{event_ndims} dimensions'} "
            f"must be {meaning}, {sizes(expected)}")
    rank = value.shape.rank
    if rank is not None:
        if rank < event_ndims:
            raise ValueError(f"{what}, got a value of shape {value.shape.as_list()}.")
        got = value.shape[rank - event_ndims:].as_list()
        if any(None not in (e, g) and e != g for e, g in zip(expected, got, strict=True)):
            raise ValueError(f"{what}, got {sizes(got)}.")
        if None not in expected + got:
            return []
    if not validate_args:
        return []
    with tf.control_dependencies([assert_util.assert_rank_at_least(
            value, event_ndims, message=f"{what}, got a value of lower rank")]):
        return [assert_util.assert_equal(tf.shape(value)[-event_ndims:], event_shape_tensor(),
                                         message=f"{what}.")]


class MultivariateHypergeometricBase(tfd.AutoCompositeTensorDistribution):
    """The parameters `num_per_class`, `total_count` and `logits` or `weights`, and the exact
    law's methods; `MultivariateHypergeometric` and `RelaxedMultivariateHypergeometric` derive
    from it (the latter with its own samples)."""

    def __init__(self, num_per_class, total_count, logits, weights, reparameterization_type,
                 validate_args, allow_nan_stats, parameters, name):
        """Converts and checks the parameters (arguments as for `MultivariateHypergeometric`;
        `parameters`: the subclass's constructor arguments)."""
        if (logits is None) == (weights is None):
            raise ValueError("Pass exactly one of `logits` or `weights`.")
        with tf.name_scope(name) as name:
            dtype = float_dtype([logits, weights], "logits" if logits is not None else "weights")
            self._logits = tensor_util.convert_nonref_to_tensor(logits, dtype=dtype, name="logits")
            self._weights = tensor_util.convert_nonref_to_tensor(
                weights, dtype=dtype, name="weights")
            self._num_per_class = as_float(num_per_class, dtype, "num_per_class")
            self._total_count = as_float(total_count, dtype, "total_count")
            class_param = self._logits if logits is not None else self._weights
            num_classes = tf.compat.dimension_value(class_param.shape[-1])
            count_classes = tf.compat.dimension_value(self._num_per_class.shape[-1])
            if None not in (num_classes, count_classes) and 1 not in (num_classes, count_classes) \
                    and num_classes != count_classes:
                raise ValueError(
                    f"`num_per_class` has {count_classes} classes but "
                    f"`{'logits' if logits is not None else 'weights'}` has {num_classes}.")
            self._static_max_count = _static_max(self._total_count)
            self._static_max_class = _static_max(self._num_per_class)
            super().__init__(
                dtype=dtype,
                reparameterization_type=reparameterization_type,
                validate_args=validate_args,
                allow_nan_stats=allow_nan_stats,
                parameters=parameters,
                name=name)

    @classmethod
    def _parameter_properties(cls, dtype, num_classes=None):
        return family_parameter_properties(dtype)

    @property
    def num_per_class(self):
        """Input argument `num_per_class` (`[..., c]`), as floats."""
        return self._num_per_class

    @property
    def total_count(self):
        """Input argument `total_count` (`[...]`), as floats."""
        return self._total_count

    @property
    def logits(self):
        """Input argument `logits` (or None)."""
        return self._logits

    @property
    def weights(self):
        """Input argument `weights` (or None)."""
        return self._weights

    def logits_parameter(self, name=None):
        """Log class weights `theta` (`[..., c]`), derived from `weights` if needed."""
        with self._name_and_control_scope(name or "logits_parameter"):
            return self._logits_parameter_no_checks()

    def _logits_parameter_no_checks(self):
        if self._logits is None:
            return tf.math.log(tf.convert_to_tensor(self._weights))
        return tf.identity(self._logits)

    def _pmf_logits(self):
        """The logits for `log_prob` and `log_normalizer`: a weight of 0 gets the gradient 0 from
        its logit -inf (`log`'s is 0 * inf = NaN); `_zero_weights_term` adds the true one."""
        if self._logits is None:
            weights = tf.convert_to_tensor(self._weights)
            zero = tf.equal(weights, 0.)
            return tf.where(zero, tf.constant(-np.inf, weights.dtype),
                            tf.math.log(tf.where(zero, tf.ones_like(weights), weights)))
        return tf.identity(self._logits)

    # Shapes ------------------------------------------------------------------------------------

    def _class_param(self):
        return self._logits if self._logits is not None else self._weights

    def _event_shape(self):
        return tf.broadcast_static_shape(self._num_per_class.shape[-1:],
                                         self._class_param().shape[-1:])

    def _event_shape_tensor(self):
        return ps.broadcast_shape(ps.shape(self._num_per_class)[-1:],
                                  ps.shape(self._class_param())[-1:])

    def _flat_params(self, logits=None):
        """Parameters broadcast to the batch shape and flattened, in float64.

        Returns `(num_per_class [B, c], logits [B, c], total_count [B], batch_shape)`; `logits`
        (`[..., c]`), if given, replaces `self._logits_parameter_no_checks()`.
        """
        batch_shape = self.batch_shape_tensor()
        num_per_class = self._flat_classes(self._num_per_class)
        logits = self._flat_classes(
            self._logits_parameter_no_checks() if logits is None else logits)
        total_count = tf.reshape(tf.broadcast_to(tf.cast(self._total_count, tf.float64),
                                                 batch_shape), [-1])
        return num_per_class, logits, total_count, batch_shape

    def _flat_classes(self, x):
        """A per-class parameter (`[..., c]`) broadcast to the batch shape, `[B, c]` float64."""
        full_shape = ps.concat([self.batch_shape_tensor(), self.event_shape_tensor()], axis=0)
        num_classes = tf.compat.dimension_value(self.event_shape[-1])
        return tf.reshape(tf.broadcast_to(tf.cast(x, tf.float64), full_shape),
                          [-1, full_shape[-1] if num_classes is None else num_classes])

    def _table_sizes(self, num_per_class, total_count):
        """K = max n + 1 and W = min(max m, max n) + 1: Python ints when the counts are static."""
        max_count, max_class = self._static_max_count, self._static_max_class
        if max_count is not None and max_class is not None:
            return max_count + 1, min(max_class, max_count) + 1
        max_count = tf.maximum(tf.cast(tf.reduce_max(total_count), tf.int32), 0)
        max_class = tf.maximum(tf.cast(tf.reduce_max(num_per_class), tf.int32), 0)
        return max_count + 1, tf.minimum(max_class, max_count) + 1

    def _flat_log_normalizer(self, num_per_class, logits, total_count):
        """log P0 = q_0[n] for each flattened batch member: `[B]` float64.

        Windowed tables (neglected relative mass below 1e-30) where they are cheaper than the
        full ones (`internal.dispatch`)."""
        table_size, window = self._table_sizes(num_per_class, total_count)
        return dispatch.log_normalizer(num_per_class, logits, total_count, table_size, window)

    @staticmethod
    def _flat_undefined(num_per_class, logits, total_count):
        """True where the parameters define no distribution: `[B]` bool.

        That is: a count `m_i` or `n` negative or not an integer, a NaN or +inf logit, or more
        draws than items of positive weight (`n > sum_i m_i [theta_i > -inf]`, which includes
        `n > sum(m)`): the support then has no mass.
        """
        def not_count(x):
            return (x < 0.) | tf.not_equal(x, tf.round(x))

        return (tf.reduce_any(not_count(num_per_class), axis=-1) | not_count(total_count)
                | tf.reduce_any(tf.math.is_nan(logits) | tf.equal(logits, np.inf), axis=-1)
                | (total_count > _drawable_items(num_per_class, logits)))

    def _nan_where_undefined(self, value, undefined, statistic):
        """`value` (`[B, ...]`) with NaN where `undefined` (`[B]`); raises instead if
        `allow_nan_stats=False` and any member is undefined."""
        assertions = []
        if not self.allow_nan_stats:
            assertions.append(assert_util.assert_equal(
                tf.reduce_any(undefined), False, message=(
                    f"`{statistic}` is undefined for these parameters (negative or non-integer "
                    "counts, NaN or +inf logits, or `total_count` above the items of positive "
                    "weight); pass allow_nan_stats=True to get NaN.")))
        with tf.control_dependencies(assertions):
            undefined = tf.reshape(undefined, ps.concat(
                [ps.shape(undefined), ps.ones([ps.rank(value) - 1], tf.int32)], 0))
            return tf.where(undefined, tf.constant(np.nan, value.dtype), value)

    def _zero_weights_term(self, num_per_class, logits, total_count, log_norm):
        """0 (`[B]`) with the gradient of log P0 w.r.t. the weights that are 0.

        A class of weight 0 contributes the factor 1 to `prod_j (1 + omega_j t)^{m_j}`, so there
        `d log P0(n) / d omega_i = m_i P0(n - 1) / P0(n)` (0 for n = 0). Arguments flat, as from
        `_flat_params(self._pmf_logits())`; `log_norm` is log P0 `[B]`.
        """
        weights = self._flat_classes(self._weights)
        zero = tf.equal(weights, 0.)

        def slopes():  # only computed when some weight is 0: a second normalizer, at n - 1
            previous = self._flat_log_normalizer(num_per_class, logits,
                                                 tf.maximum(total_count - 1., 0.))
            ratio = tf.where((total_count > 0.) & tf.math.is_finite(log_norm),
                             tf.exp(previous - log_norm), tf.zeros_like(log_norm))
            return tf.stop_gradient(num_per_class * ratio[:, None])

        slopes = tf.cond(tf.reduce_any(zero), slopes, lambda: tf.zeros_like(weights))
        return tf.reduce_sum(tf.where(zero, weights * slopes, tf.zeros_like(slopes)), axis=-1)

    def _log_normalizer64(self):
        """log P0 (`[...]`, float64), differentiable w.r.t. weights of 0 (`_pmf_logits`), and
        where the parameters define no distribution (`[...]` bool, `_flat_undefined`)."""
        num_per_class, logits, total_count, batch_shape = self._flat_params(self._pmf_logits())
        log_norm = self._flat_log_normalizer(num_per_class, logits, total_count)
        if self._weights is not None:
            log_norm += self._zero_weights_term(num_per_class, logits, total_count, log_norm)
        undefined = self._flat_undefined(num_per_class, logits, total_count)
        return tf.reshape(log_norm, batch_shape), tf.reshape(undefined, batch_shape)

    def log_normalizer(self, name="log_normalizer"):
        """`A(theta) = log P0 = log [t^n] prod_i (1 + omega_i t)^{m_i}`, shape `[...]`."""
        with self._name_and_control_scope(name):
            return tf.cast(self._log_normalizer64()[0], self.dtype)

    # Probabilities and samples -----------------------------------------------------------------

    def _log_prob(self, x):
        num_per_class = tf.cast(tf.convert_to_tensor(self._num_per_class), tf.float64)
        logits = tf.cast(self._pmf_logits(), tf.float64)
        total_count = tf.cast(tf.convert_to_tensor(self._total_count), tf.float64)
        x = tf.cast(x, tf.float64)
        unnormalized = tf.reduce_sum(log_class_term(num_per_class, x, logits), axis=-1)
        on_support = (tf.equal(tf.reduce_sum(x, axis=-1), total_count)
                      & tf.reduce_all(tf.equal(x, tf.round(x)), axis=-1)
                      & tf.math.is_finite(unnormalized))
        log_norm, undefined = self._log_normalizer64()
        safe_unnormalized = tf.where(on_support, unnormalized, tf.zeros_like(unnormalized))
        result = tf.where(on_support, safe_unnormalized - log_norm,
                          tf.constant(-np.inf, tf.float64))
        result = tf.where(undefined, tf.constant(np.nan, tf.float64), result)
        return tf.cast(result, self.dtype)

    def _sample_n(self, n, seed=None):
        seed = tfp.random.sanitize_seed(seed, salt="MultivariateHypergeometric")
        num_per_class, logits, total_count, batch_shape = self._flat_params()
        table_size, window = self._table_sizes(num_per_class, total_count)
        draws = dispatch.sample_counts(
            num_per_class, logits, total_count, table_size, window,
            tf.compat.dimension_value(logits.shape[-1]), n, seed)
        undefined = self._flat_undefined(num_per_class, logits, total_count)
        unfinished = tf.reduce_any(draws < 0, axis=-1, keepdims=True)  # `rejection_sampler`
        draws = tf.where(undefined[None, :, None] | unfinished, tf.constant(np.nan, self.dtype),
                         tf.cast(draws, self.dtype))
        num_classes = tf.shape(logits)[-1]
        return tf.reshape(draws, ps.concat([[n], batch_shape, [num_classes]], axis=0))

    # Moments -------------------------------------------------------------------------------

    def _flat_mean(self):
        """E[X] = grad A, flattened `[B, c]`, clipped to `[0, m]` against round-off; NaN where the
        parameters are undefined (`_flat_undefined`)."""
        num_per_class, logits, total_count, batch_shape = self._flat_params()
        with tf.GradientTape() as tape:
            tape.watch(logits)
            log_norm = self._flat_log_normalizer(num_per_class, logits, total_count)
        mean = tape.gradient(log_norm, logits)
        undefined = self._flat_undefined(num_per_class, logits, total_count)
        mean = self._nan_where_undefined(
            tf.clip_by_value(mean, 0., num_per_class), undefined, "mean")
        return mean, batch_shape

    def _mean64(self):
        mean, batch_shape = self._flat_mean()
        return tf.reshape(mean, ps.concat([batch_shape, self.event_shape_tensor()], axis=0))

    def _mean(self):
        return tf.cast(self._mean64(), self.dtype)

    def _covariance(self):
        """Cov[X] (= hessian A) by one forward and one backward sweep over the classes' exact
        conditionals, all c columns at once (`internal.moments`): O(c^2 n min(m, n))
        work, no derivatives."""
        num_per_class, logits, total_count, batch_shape = self._flat_params()
        table_size, window = self._table_sizes(num_per_class, total_count)
        _, covariance = moments_by_sweeps(num_per_class, logits, total_count, table_size,
                                           window)
        undefined = self._flat_undefined(num_per_class, logits, total_count)
        covariance = self._nan_where_undefined(covariance, undefined, "covariance")
        event = self.event_shape_tensor()
        shape = ps.concat([batch_shape, event, event], axis=0)
        return tf.cast(tf.reshape(covariance, shape), self.dtype)

    def _variance(self):
        """The covariance's diagonal, clamped at 0 (round-off can make it -1e-32)."""
        return tf.maximum(tf.linalg.diag_part(self._covariance()), 0.)

    def _entropy(self):
        """H = log P0 - E[sum_i (log C(m_i, X_i) + X_i theta_i)], with the exact marginals
        P(X_i = x) from prefix and suffix tables (cost O(c W K) per batch member)."""
        num_per_class, logits, total_count, batch_shape = self._flat_params()
        table_size, window = self._table_sizes(num_per_class, total_count)
        marginals, log_norm = marginal_log_probs(
            num_per_class, logits, total_count, table_size, window)           # [c, W, B], [B]
        x = tf.cast(tf.range(window), tf.float64)[None, :, None]
        terms = log_class_term(tf.transpose(num_per_class)[:, None, :], x,
                               tf.transpose(logits)[:, None, :])            # [c, W, B]
        probs = tf.exp(marginals)
        has_mass = probs > 0.
        expected = tf.reduce_sum(
            tf.where(has_mass, probs * tf.where(has_mass, terms, tf.zeros_like(terms)),
                     tf.zeros_like(probs)), axis=[0, 1])
        undefined = self._flat_undefined(num_per_class, logits, total_count)
        entropy = self._nan_where_undefined(log_norm - expected, undefined, "entropy")
        return tf.cast(tf.reshape(entropy, batch_shape), self.dtype)

    def _mode(self):
        """The most probable counts (one of them under ties), exactly and without tables.

        log pmf is separable and concave in each x_i, with increments
        `g_i(x) = log((m_i - x) / (x + 1)) + theta_i` decreasing in x, so the mode under
        `sum x = n` is greedy: take the n largest increments over all classes and x
        (`x_i` = how many of class i's are taken). Cost O(c W log(c W)).
        """
        num_per_class, logits, total_count, batch_shape = self._flat_params()
        _, window = self._table_sizes(num_per_class, total_count)
        x = tf.cast(tf.range(window), tf.float64)[None, None, :]
        num = num_per_class[:, :, None]
        valid = (x < num) & tf.not_equal(logits[:, :, None], -np.inf)
        ratio = tf.where(valid, (num - x) / (x + 1.), tf.ones_like(valid, tf.float64))
        gains = tf.where(valid, tf.math.log(ratio) + logits[:, :, None],
                         tf.constant(-np.inf, tf.float64))                  # [B, c, W]
        flat_gains = tf.reshape(gains, [tf.shape(gains)[0], -1])
        order = tf.argsort(flat_gains, axis=-1, direction="DESCENDING", stable=True)
        rank = tf.argsort(order, axis=-1, stable=True)
        taken = tf.cast(rank < tf.cast(total_count, tf.int32)[:, None], tf.float64)
        mode = tf.reduce_sum(tf.reshape(taken, tf.shape(gains)), axis=-1)
        undefined = self._flat_undefined(num_per_class, logits, total_count)
        mode = self._nan_where_undefined(mode, undefined, "mode")
        return tf.cast(tf.reshape(mode, ps.concat([batch_shape, self.event_shape_tensor()], 0)),
                       self.dtype)

    # Validation ----------------------------------------------------------------------------

    def _parameter_control_dependencies(self, is_init):
        if not self.validate_args:
            return []
        assertions = []
        num_per_class, total_count = self._num_per_class, self._total_count
        if is_init != tensor_util.is_ref(num_per_class):
            num_per_class = tf.convert_to_tensor(num_per_class)
            assertions += count_assertions(num_per_class, "`num_per_class`")
        if is_init != tensor_util.is_ref(total_count):
            total_count = tf.convert_to_tensor(total_count)
            assertions += count_assertions(total_count, "`total_count`")
        if is_init != (tensor_util.is_ref(self._num_per_class)
                       or tensor_util.is_ref(self._total_count)):
            assertions.append(assert_util.assert_less_equal(
                tf.convert_to_tensor(total_count),
                tf.reduce_sum(tf.convert_to_tensor(num_per_class), axis=-1),
                message="`total_count` must be at most sum(`num_per_class`)."))
        if self._logits is not None and is_init != tensor_util.is_ref(self._logits):
            logits = tf.convert_to_tensor(self._logits)
            assertions.append(assert_log_weights(
                logits, message="`logits` must not be NaN or +inf (-inf, weight 0, is allowed)."))
        if self._weights is not None and is_init != tensor_util.is_ref(self._weights):
            weights = tf.convert_to_tensor(self._weights)
            assertions += [
                assert_util.assert_non_negative(
                    weights, message="`weights` must be non-negative."),
                assert_util.assert_equal(tf.reduce_all(tf.math.is_finite(weights)), True,
                                         message="`weights` must be finite.")]
        if is_init != any(tensor_util.is_ref(t) for t in (
                self._num_per_class, self._total_count, self._class_param())):
            drawable = _drawable_items(tf.convert_to_tensor(self._num_per_class),
                                       self._logits_parameter_no_checks())
            assertions.append(assert_util.assert_less_equal(
                tf.convert_to_tensor(self._total_count), drawable,
                message="`total_count` must be at most the number of items of positive weight."))
        return assertions

    def _sample_control_dependencies(self, x):
        shape_assertions = event_shape_assertions(
            x, self.event_shape, self.event_shape_tensor, "the number of classes",
            self.validate_args)
        if not self.validate_args:
            return []
        num_per_class = tf.convert_to_tensor(self._num_per_class)
        with tf.control_dependencies(shape_assertions):  # a wrong shape fails on its own message
            return shape_assertions + count_assertions(x, "`value` (counts)") + [
                assert_util.assert_less_equal(
                    x, num_per_class,
                    message="`value` (counts) must be at most `num_per_class`."),
                assert_util.assert_equal(
                    tf.reduce_sum(x, axis=-1), tf.convert_to_tensor(self._total_count),
                    message="`value` (counts) must sum to `total_count`."),
            ]

    def _default_event_space_bijector(self):
        return None


def _same_urn_assertions(p, q):
    """The KL formula needs equal `num_per_class` and `total_count`.

    Raises a `ValueError` where both are known statically and differ; otherwise returns
    assertions (`InvalidArgumentError` at run time) if either distribution validates its args.
    """
    assertions = []
    for name in ("num_per_class", "total_count"):
        p_value, q_value = getattr(p, name), getattr(q, name)
        p_static, q_static = (None if tensor_util.is_ref(v) else tf.get_static_value(v)
                              for v in (p_value, q_value))
        if p_static is not None and q_static is not None:
            try:
                equal = np.all(p_static == q_static)
            except ValueError:  # shapes that do not broadcast, e.g. numbers of classes
                equal = False
            if not equal:
                raise ValueError(f"KL needs equal `{name}`, got {p_static.tolist()} and "
                                 f"{q_static.tolist()}.")
        elif p.validate_args or q.validate_args:
            assertions.append(assert_util.assert_equal(
                tf.convert_to_tensor(p_value), tf.convert_to_tensor(q_value),
                message=f"KL needs equal `{name}`."))
    return assertions


def kl_divergence(p, q, name=None):
    """KL(p || q) = A(theta_q) - A(theta_p) - (theta_q - theta_p) . E_p[X] (same m and n).

    A class with E_p[X_i] = 0 (weight 0 or m_i = 0 under p) adds 0, even with an infinite logit.
    """
    with tf.name_scope(name or "kl_multivariate_hypergeometric"):
        with tf.control_dependencies(_same_urn_assertions(p, q)):
            logits_difference = (tf.cast(q.logits_parameter(), tf.float64)
                                 - tf.cast(p.logits_parameter(), tf.float64))
            mean = p._mean64()
            drawn = tf.not_equal(mean, 0.)
            kl = (q._log_normalizer64()[0] - p._log_normalizer64()[0]
                  - tf.reduce_sum(tf.where(drawn, logits_difference, 0.) * mean, axis=-1))
            return tf.cast(kl, p.dtype)
