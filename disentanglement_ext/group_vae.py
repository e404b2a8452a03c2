# Copyright 2026 The tfp-mvhg authors.
# SPDX-License-Identifier: Apache-2.0
"""GroupVAE for pairs of views with a pluggable view aggregation: LabelVAE, AdaVAE and HGVAE.

Both views of a pair are encoded by one encoder into diagonal Gaussians `q1, q2` over d latent
dimensions. Per dimension, the symmetric KL

    gamma_j = (KL(q1_j || q2_j) + KL(q2_j || q1_j)) / 2                                  [batch, d]

says how differently the two views use dimension j. An aggregation turns gamma into a mask of
*independent* dimensions (1 = the views keep their own posterior); the others are *shared*: both
views get the same aggregated posterior (GroupVAE arithmetic mean of the two Gaussians, or the
ML-VAE product of experts). Both views are then decoded, and the loss is the beta-VAE loss averaged
over the two views; `shared_kl` says whether a shared dimension's KL is paid by each view
(disentanglement_lib's GroupVAE) or once per pair (the ELBO of a model whose views share those
latents). Aggregations (gin `model.model = @group_vae()`, `group_vae.aggregation = @...()`):

- `label_aggregation`: LabelVAE; the number k of independent dimensions is known: the top-k of
  gamma (`source = "top_gamma"`), or, as disentanglement_lib's `group_vae_labels`, the one latent
  dimension whose index is the changed factor's (`source = "changed_factor"`).
- `ada_aggregation`: AdaVAE; independent where gamma >= (min gamma + max gamma) / 2.
- `hypergeometric_aggregation`: HGVAE; gamma -> Dense -> log omega (independent, shared) ->
  `tfp_mvhg.RelaxedMultivariateHypergeometric(m = [d, d], n = d)` -> k_hat independent dimensions,
  chosen as the top k_hat of a NeuralSort of gamma; differentiable end to end. Options for a k_hat
  that estimates s: an exact KL between the MVHG over k and an MVHG prior that favours sharing,
  added to the loss through `Aggregation.loss`; sorted log gamma as the Dense layer's input; no
  gradient from log omega into gamma; an AdaVAE warm-up (`gin_configs/hg_prior.gin`).
"""

import collections

import gin.tf
import numpy as np
import tensorflow.compat.v1 as tf

import tfp_mvhg
from disentanglement_ext import _shims_required  # noqa: F401  (before disentanglement_lib)
from disentanglement_ext import neural_sort
from disentanglement_ext import progress

from disentanglement_lib.methods.shared import losses
from disentanglement_lib.methods.shared import optimizers
from disentanglement_lib.methods.unsupervised import vae


class Aggregation(collections.namedtuple(
        "Aggregation", ["independent", "num_independent", "summaries", "loss"])):
    """independent: [batch, d] float in [0, 1], 1 = dimension kept per view;
    num_independent: [batch] float, k_hat; summaries: dict of scalar tensors to log;
    loss: [batch], a term the aggregation adds to the model's loss (default zeros)."""

    def __new__(cls, independent, num_independent, summaries, loss=None):
        if loss is None:
            loss = tf.zeros_like(num_independent)
        return super().__new__(cls, independent, num_independent, summaries, loss)


PRIORS = ("mvhg", "per_dimension")
LABEL_SOURCES = ("top_gamma", "changed_factor", "changed_factors")


def symmetric_gaussian_kl(mean_1, logvar_1, mean_2, logvar_2):
    """Per-dimension symmetric KL of two diagonal Gaussians: `[batch, d]`.

    (KL(1||2) + KL(2||1)) / 2 = ((v1 + dm^2) / v2 + (v2 + dm^2) / v1 - 2) / 4.
    """
    var_1, var_2 = tf.exp(logvar_1), tf.exp(logvar_2)
    squared = tf.square(mean_1 - mean_2)
    return 0.25 * ((var_1 + squared) / var_2 + (var_2 + squared) / var_1 - 2.)


def combine_views(mean_1, logvar_1, mean_2, logvar_2, method):
    """The shared posterior of both views: `(mean, logvar)`, each `[batch, d]`.

    "mean" (GroupVAE): the moments of the equal mixture's mean and average variance,
    mean = (m1 + m2) / 2, var = (v1 + v2) / 2.
    "product_of_experts" (ML-VAE): var = 1 / (1 / v1 + 1 / v2), mean = var (m1 / v1 + m2 / v2).
    """
    if method == "mean":
        return 0.5 * (mean_1 + mean_2), tf.math.reduce_logsumexp(
            tf.stack([logvar_1, logvar_2]), axis=0) - np.log(2.)
    if method == "product_of_experts":
        precision_1, precision_2 = tf.exp(-logvar_1), tf.exp(-logvar_2)
        logvar = -tf.log(precision_1 + precision_2)
        return tf.exp(logvar) * (mean_1 * precision_1 + mean_2 * precision_2), logvar
    raise ValueError(f"`combine` must be 'mean' or 'product_of_experts', got {method!r}.")


def top_k_mask(scores, k):
    """1 for the k largest scores of each row, else 0: `[batch, d]` float (no gradient)."""
    _, indices = tf.nn.top_k(scores, k=k)
    return tf.reduce_sum(tf.one_hot(indices, tf.shape(scores)[-1], dtype=scores.dtype), axis=1)


@gin.configurable("label_aggregation", allowlist=["num_independent", "source"])
class LabelAggregation:
    """LabelVAE: which dimensions are independent comes from the weak label, not learned.

    Args:
      num_independent: k, for `source = "top_gamma"`: the top-k dimensions of gamma are
        independent (the paper's LabelVAE with k = 1).
      source: "top_gamma", or "changed_factor" (disentanglement_lib's `group_vae_labels`): latent
        dimension j is independent iff j is the pair's `changed_index` (the last factor its
        dynamics changed; -1: none, every dimension shared), so dimension j is made to carry
        factor j; needs as many latent dimensions as factors. `num_independent` is then unused.
        Or "changed_factors": LabelVAE given the true independent set, dimension j < F is
        independent iff factor j differs within the pair (`shared_mask`), dimensions >= F shared.
    """

    def __init__(self, num_independent=1, source="top_gamma"):
        if num_independent < 0:
            raise ValueError(f"`num_independent` must be >= 0, got {num_independent}.")
        if source not in LABEL_SOURCES:
            raise ValueError(f"label_aggregation.source must be one of {LABEL_SOURCES}, "
                             f"got {source!r}.")
        self.num_independent = int(num_independent)
        self.source = source

    def __call__(self, gamma, global_step, labels=None):
        del global_step
        num_latent = gamma.shape[-1]
        if self.source == "changed_factor":
            return self._changed_factor(gamma, labels)
        if self.source == "changed_factors":
            return self._changed_factors(gamma, labels)
        if self.num_independent > num_latent:
            raise ValueError(f"`num_independent` = {self.num_independent} exceeds the "
                             f"{num_latent} latent dimensions.")
        independent = top_k_mask(tf.stop_gradient(gamma), self.num_independent)
        count = tf.fill(tf.shape(gamma)[:1], float(self.num_independent))
        return Aggregation(independent, count, {})

    @staticmethod
    def _changed_factors(gamma, labels):
        if labels is None or "shared_mask" not in labels:
            raise ValueError('label_aggregation.source = "changed_factors" needs the pairs\' '
                             '`shared_mask` labels (disentanglement_ext.pairs).')
        num_latent, num_factors = int(gamma.shape[-1]), int(labels["shared_mask"].shape[-1])
        if num_factors > num_latent:
            raise ValueError(f'label_aggregation.source = "changed_factors" needs at least as '
                             f'many latent dimensions as factors: {num_latent} < {num_factors}.')
        changed = 1. - tf.cast(labels["shared_mask"], gamma.dtype)
        independent = tf.pad(changed, [[0, 0], [0, num_latent - num_factors]])
        return Aggregation(independent, tf.reduce_sum(independent, axis=1), {})

    @staticmethod
    def _changed_factor(gamma, labels):
        if labels is None or "changed_index" not in labels:
            raise ValueError('label_aggregation.source = "changed_factor" needs the pairs\' '
                             '`changed_index` labels (disentanglement_ext.pairs).')
        num_latent = int(gamma.shape[-1])
        if "shared_mask" in labels and labels["shared_mask"].shape[-1] > num_latent:
            raise ValueError(f'label_aggregation.source = "changed_factor" needs at least as '
                             f'many latent dimensions as factors: {num_latent} < '
                             f'{labels["shared_mask"].shape[-1]}.')
        independent = tf.one_hot(labels["changed_index"], num_latent, dtype=gamma.dtype)
        return Aggregation(independent, tf.reduce_sum(independent, axis=1), {})


@gin.configurable("ada_aggregation", allowlist=[])
class AdaAggregation:
    """AdaVAE: independent where gamma_j >= (min_j gamma_j + max_j gamma_j) / 2, per pair."""

    def __call__(self, gamma, global_step, labels=None):
        del global_step, labels
        gamma = tf.stop_gradient(gamma)
        threshold = 0.5 * (tf.reduce_min(gamma, axis=1, keepdims=True)
                           + tf.reduce_max(gamma, axis=1, keepdims=True))
        independent = tf.cast(gamma >= threshold, gamma.dtype)
        return Aggregation(independent, tf.reduce_sum(independent, axis=1), {})


@gin.configurable("hypergeometric_aggregation",
                  allowlist=["tau_init", "tau_final", "n_steps", "sort_temperature", "method",
                             "hard_sort", "anneal_sort_temperature", "stochastic_sort",
                             "prior", "prior_weight", "prior_log_ratio", "prior_ramp_steps",
                             "omega_inputs", "stop_gamma_gradient", "warmup_steps"])
class HypergeometricAggregation:
    """HGVAE: k_hat ~ relaxed MVHG(m = [d, d], n = d, omega = Dense(gamma)); top-k_hat NeuralSort.

    With the straight-through one-hot `y` of k_hat over 0..d, the selector `t_i = sum_{k > i} y_k`
    is 1 for the first k_hat sorted positions; `independent = t @ P_hat`, where `P_hat [d, d]` is
    the NeuralSort relaxation of the permutation sorting gamma in decreasing order. Gradients reach
    the Dense layer through y and the encoder through gamma.

    A prior on k: with class 0 = independent, the posterior q(k | gamma) is the MVHG q(k) ~ C(d, k)
    C(d, d - k) exp(k a_0 + (d - k) a_1), a = log omega = Dense(gamma) [batch, 2], and the prior p
    the same MVHG with log-weights [prior_log_ratio, 0]. The aggregation's loss is `prior_weight *
    KL(q || p)` per pair (exact, `tfp_mvhg.kl_divergence`). -log p(k) grows in k by -prior_log_ratio
    - 2 log((d - k) / (k + 1)) nats per dimension, so a negative ratio favours sharing: it charges a
    few nats for every independent dimension where the GroupVAE loss is flat. That charge depends on
    k through C(d, k)^2: it is lowest near k = d / 2, so this prior pulls k_hat towards d / 2 as
    well as down.

    `prior = "per_dimension"` charges the same `prior_weight` = lambda nats for every independent
    dimension instead: the loss gains lambda E_q[k], with E_q[k] the MVHG's exact mean
    (`tfp_mvhg.MultivariateHypergeometric.mean`, a differentiable function of log omega). It is
    the cross-entropy term of a KL to the prior p(k) ~ exp(-lambda k) without q's entropy. The
    GroupVAE loss rises when a dimension that differs between the views is shared (by what
    forgetting that factor costs) and is flat when one that agrees is, so a charge lambda below
    the cheapest differing factor's cost stops k_hat where the views stop differing, at F - s
    when each factor has its own dimension, whatever k is. Its gradient in the natural parameter
    a = a_0 - a_1 is lambda Var_q(k) > 0: down, never towards the middle.

    Args:
      tau_init, tau_final, n_steps: temperature schedule of the MVHG (paper: 10, 0.01, 50000).
      sort_temperature: NeuralSort temperature (ignored with `anneal_sort_temperature`).
      method: "exact" or "merged" conditionals (`RelaxedMultivariateHypergeometric`).
      hard_sort: straight-through hard permutation in the forward pass.
      anneal_sort_temperature: NeuralSort follows the MVHG's temperature schedule (the paper).
      stochastic_sort: Gumbel-perturbed NeuralSort (a relaxed Plackett-Luce sample with log-scores
        gamma, new noise every step and replica), as the paper states; else the deterministic
        sort.
      prior: "mvhg" (KL(q || MVHG prior)) or "per_dimension" (lambda E_q[k]), see above.
      prior_weight: weight (>= 0) of the prior term (lambda for "per_dimension"); 0 (default)
        adds nothing.
      prior_log_ratio: log(omega_independent / omega_shared) of the "mvhg" prior; finite.
      prior_ramp_steps: the prior term's weight rises linearly from 0 to `prior_weight` over
        this many global steps (0: constant), so the representation forms before k is charged.
      omega_inputs: what the Dense layer sees: "gamma" (the paper) or "sorted_log_gamma",
        sort(log(gamma + 1e-6), descending), so its weights act on ranks and can count how many
        dimensions differ whichever dimensions they are.
      stop_gamma_gradient: no gradient from log omega back into gamma (the encoder); gamma still
        gets the NeuralSort's.
      warmup_steps: for global steps < warmup_steps the mask is AdaVAE's (independent where
        gamma >= (min + max) / 2), so the representation disentangles under weak supervision
        before k is learned; only the "mvhg" prior trains the Dense layer then (towards the
        prior). The "per_dimension" charge starts after the warm-up: with nothing to weigh it
        against, it would only drive E_q[k] towards 0.
    """

    def __init__(self, tau_init=10., tau_final=0.01, n_steps=50000, sort_temperature=1.0,
                 method="exact", hard_sort=True, anneal_sort_temperature=False,
                 stochastic_sort=False, prior="mvhg", prior_weight=0., prior_log_ratio=0.,
                 prior_ramp_steps=0, omega_inputs="gamma", stop_gamma_gradient=False,
                 warmup_steps=0):
        tfp_mvhg.temperature_schedule(0, tau_init, tau_final, n_steps)  # validates the settings
        if not sort_temperature > 0:
            raise ValueError(f"`sort_temperature` must be positive, got {sort_temperature}.")
        if not (np.isfinite(prior_weight) and prior_weight >= 0):
            raise ValueError(f"`prior_weight` must be finite and >= 0, got {prior_weight}.")
        if prior not in PRIORS:
            raise ValueError(f"`prior` must be one of {PRIORS}, got {prior!r}.")
        if int(prior_ramp_steps) != prior_ramp_steps or prior_ramp_steps < 0:
            raise ValueError(f"`prior_ramp_steps` must be an integer >= 0, got "
                             f"{prior_ramp_steps!r}.")
        if not np.isfinite(prior_log_ratio):
            raise ValueError(f"`prior_log_ratio` must be finite, got {prior_log_ratio}.")
        if omega_inputs not in ("gamma", "sorted_log_gamma"):
            raise ValueError(f"`omega_inputs` must be 'gamma' or 'sorted_log_gamma', got "
                             f"{omega_inputs!r}.")
        if int(warmup_steps) != warmup_steps or warmup_steps < 0:
            raise ValueError(f"`warmup_steps` must be an integer >= 0, got {warmup_steps}.")
        self.tau_init, self.tau_final, self.n_steps = tau_init, tau_final, n_steps
        self.sort_temperature, self.method, self.hard_sort = sort_temperature, method, hard_sort
        self.anneal_sort_temperature = bool(anneal_sort_temperature)
        self.stochastic_sort = bool(stochastic_sort)
        self.prior, self.prior_weight = prior, float(prior_weight)
        self.prior_log_ratio, self.prior_ramp_steps = float(prior_log_ratio), int(prior_ramp_steps)
        self.omega_inputs, self.stop_gamma_gradient = omega_inputs, bool(stop_gamma_gradient)
        self.warmup_steps = int(warmup_steps)

    def omega_features(self, gamma):
        """The Dense layer's input `[batch, d]` (see `omega_inputs`, `stop_gamma_gradient`)."""
        if self.stop_gamma_gradient:
            gamma = tf.stop_gradient(gamma)
        if self.omega_inputs == "sorted_log_gamma":
            return tf.sort(tf.math.log(gamma + 1e-6), axis=-1, direction="DESCENDING")
        return gamma

    def prior_kl(self, log_omega, num_latent):
        """KL(MVHG(m = [d, d], n = d, log_omega) || MVHG(same, [prior_log_ratio, 0])): `[batch]`."""
        counts = [float(num_latent)] * 2
        posterior = tfp_mvhg.MultivariateHypergeometric(counts, float(num_latent),
                                                        logits=log_omega)
        prior = tfp_mvhg.MultivariateHypergeometric(
            counts, float(num_latent), logits=tf.constant([self.prior_log_ratio, 0.],
                                                          log_omega.dtype))
        return tfp_mvhg.kl_divergence(posterior, prior)

    def expected_independent(self, log_omega, num_latent):
        """E_q[k] under MVHG(m = [d, d], n = d, log_omega): `[batch]`, exact and differentiable."""
        counts = [float(num_latent)] * 2
        return tfp_mvhg.MultivariateHypergeometric(counts, float(num_latent),
                                                   logits=log_omega).mean()[..., 0]

    def prior_loss(self, log_omega, num_latent, global_step):
        """The prior term per pair `[batch]` and its summaries: the ramped weight times
        KL(q || MVHG prior) ("mvhg") or E_q[k] ("per_dimension")."""
        weight = tf.constant(self.prior_weight, log_omega.dtype)
        if self.prior_ramp_steps:
            progress = tf.cast(global_step, log_omega.dtype) / float(self.prior_ramp_steps)
            weight *= tf.minimum(progress, 1.)
        if self.prior == "per_dimension" and self.warmup_steps:
            weight *= tf.cast(global_step >= self.warmup_steps, log_omega.dtype)
        summaries = {"hg_prior_weight": weight}
        if self.prior == "per_dimension":
            term = self.expected_independent(log_omega, num_latent)
            summaries["hg_expected_k"] = tf.reduce_mean(term)
        else:
            term = self.prior_kl(log_omega, num_latent)
            summaries["hg_prior_kl"] = tf.reduce_mean(term)
        return weight * term, summaries

    def __call__(self, gamma, global_step, labels=None):
        del labels
        num_latent = int(gamma.shape[-1])
        with tf.variable_scope("hypergeometric_aggregation", reuse=tf.AUTO_REUSE):
            log_omega = tf.layers.dense(self.omega_features(gamma), 2, name="log_omega")
        temperature = tfp_mvhg.temperature_schedule(
            global_step, self.tau_init, self.tau_final, self.n_steps)
        dist = tfp_mvhg.RelaxedMultivariateHypergeometric(
            [float(num_latent)] * 2, float(num_latent), temperature, logits=log_omega,
            method=self.method)
        sample = dist.sample_with_details()
        count_one_hot = sample.one_hots[:, 0, :]                                    # [batch, d+1]
        selector = tf.cumsum(count_one_hot, axis=-1, exclusive=True, reverse=True)[:, :num_latent]
        sort_temperature = (tf.cast(temperature, gamma.dtype) if self.anneal_sort_temperature
                            else self.sort_temperature)
        if self.stochastic_sort:
            seed = replica_seed(tf.stack([tf.cast(global_step, tf.int64),
                                          tf.constant(0x5047, tf.int64)]))
            permutation = neural_sort.gumbel_neural_sort(gamma, sort_temperature, seed,
                                                         hard=self.hard_sort)
        else:
            permutation = neural_sort.neural_sort(gamma, sort_temperature, hard=self.hard_sort)
        independent = tf.einsum("bi,bij->bj", selector, permutation)
        num_independent = sample.counts[:, 0]
        if self.warmup_steps:
            warmup = AdaAggregation()(gamma, global_step)
            in_warmup = tf.less(tf.cast(global_step, tf.int64), self.warmup_steps)
            independent = tf.cond(in_warmup, lambda: warmup.independent, lambda: independent)
            num_independent = tf.cond(in_warmup, lambda: warmup.num_independent,
                                      lambda: num_independent)
        summaries = {"hg_temperature": temperature,
                     "hg_sort_temperature": tf.convert_to_tensor(sort_temperature, gamma.dtype),
                     "hg_omega_independent": tf.reduce_mean(tf.nn.softmax(log_omega)[:, 0])}
        loss = None
        if self.prior_weight:
            loss, prior_summaries = self.prior_loss(log_omega, num_latent, global_step)
            summaries.update(prior_summaries)
        return Aggregation(independent, num_independent, summaries, loss)


def replica_seed(seed):
    """Stateless seed `seed` `[2]` with the replica's id folded in under a distribution strategy
    of several replicas (which would all draw the same noise from it), else `seed`."""
    replica = tf.distribute.get_replica_context()
    if replica is None or replica.num_replicas_in_sync == 1:
        return seed
    return tf.random.experimental.stateless_fold_in(seed, replica.replica_id_in_sync_group)


def pair_kl(kl_per_dim_1, kl_per_dim_2, independent, shared_kl):
    """KL term per view, `[batch]`, from the per-dimension KLs `[batch, d]` of the two views'
    (aggregated) posteriors to N(0, 1) and the independent mask `[batch, d]`.

    "per_view" (disentanglement_lib's GroupVAE): (sum_j kl1_j + sum_j kl2_j) / 2; a shared dimension
    is paid by both views.
    "once": half the KL of the pair ELBO, where a shared dimension is one latent of the pair:
    (sum_j ind_j (kl1_j + kl2_j) + (1 - ind_j) kl_j) / 2 = sum_j (1 + ind_j) (kl1_j + kl2_j) / 4,
    since kl1_j = kl2_j = kl_j on shared dimensions. Sharing dimension j then saves kl_j / 2 per
    view, so the loss (unlike "per_view") prefers sharing every dimension the views agree on.
    """
    total = kl_per_dim_1 + kl_per_dim_2
    if shared_kl == "per_view":
        return 0.5 * tf.reduce_sum(total, axis=1)
    if shared_kl == "once":
        return 0.25 * tf.reduce_sum((1. + independent) * total, axis=1)
    raise ValueError(f"`shared_kl` must be 'per_view' or 'once', got {shared_kl!r}.")


@gin.configurable("group_vae", allowlist=["beta", "aggregation", "combine", "shared_kl"])
class GroupVAE(vae.BaseVAE):
    """Weakly-supervised VAE on pairs `[batch, 2, H, W, C]` (labels: `disentanglement_ext.pairs`).

    Args:
      beta: weight of the KL term.
      aggregation: a callable `(gamma [batch, d], global_step, labels) -> Aggregation`; labels is
        the dict of `disentanglement_ext.pairs` (or None).
      combine: "mean" (GroupVAE) or "product_of_experts" (ML-VAE) for the shared dimensions.
      shared_kl: "per_view" (disentanglement_lib) or "once" (pair ELBO), see `pair_kl`.
    """

    def __init__(self, beta=1., aggregation=gin.REQUIRED, combine="mean", shared_kl="per_view"):
        self.beta = beta
        self.aggregation = aggregation
        zeros = tf.zeros([1, 1])
        combine_views(zeros, zeros, zeros, zeros, combine)  # validates `combine`
        pair_kl(zeros, zeros, zeros, shared_kl)  # validates `shared_kl`
        self.combine, self.shared_kl = combine, shared_kl

    def regularizer(self, kl_loss, z_mean, z_logvar, z_sampled):
        del z_mean, z_logvar, z_sampled
        return self.beta * kl_loss

    def encode_pair(self, features, is_training, labels=None):
        """Posteriors of both views and the aggregated ones: dict of `[batch, d]` tensors."""
        with tf.variable_scope(tf.get_variable_scope(), reuse=tf.AUTO_REUSE):
            mean_1, logvar_1 = self.gaussian_encoder(features[:, 0], is_training=is_training)
            mean_2, logvar_2 = self.gaussian_encoder(features[:, 1], is_training=is_training)
        gamma = symmetric_gaussian_kl(mean_1, logvar_1, mean_2, logvar_2)
        aggregation = self.aggregation(gamma, tf.train.get_or_create_global_step(), labels)
        shared_mean, shared_logvar = combine_views(mean_1, logvar_1, mean_2, logvar_2,
                                                   self.combine)
        independent = aggregation.independent

        def mix(own, shared):
            return independent * own + (1. - independent) * shared

        return dict(gamma=gamma, aggregation=aggregation, encoder_means=(mean_1, mean_2),
                    means=(mix(mean_1, shared_mean), mix(mean_2, shared_mean)),
                    logvars=(mix(logvar_1, shared_logvar), mix(logvar_2, shared_logvar)))

    def model_fn(self, features, labels, mode, params):
        """TPUEstimator model function on pairs; `labels` (`disentanglement_ext.pairs`: s and the
        shared-factor mask) feed the metrics: s_hat = F - k_hat for F ground-truth factors.

        PREDICT returns per pair the encoder means of both views and the independent mask; its
        features may be a dict {"observations": [batch, 2, H, W, C], "changed_index": [batch],
        "shared_mask": [batch, F]} (the labels `label_aggregation`'s "changed_factor(s)" need).
        `params["training_steps"]` (optional) gives the training progress line its ETA.
        """
        is_training = mode == tf.estimator.ModeKeys.TRAIN
        if isinstance(features, dict):
            labels = dict(labels or {}, **{key: value for key, value in features.items()
                                           if key != "observations"})
            features = features["observations"]
        image_shape = features.get_shape().as_list()[2:]
        encoded = self.encode_pair(features, is_training, labels)
        contrib_tpu = tf.estimator.tpu
        if mode == tf.estimator.ModeKeys.PREDICT:
            predictions = dict(mean_1=encoded["encoder_means"][0],
                               mean_2=encoded["encoder_means"][1],
                               independent=encoded["aggregation"].independent,
                               num_independent=encoded["aggregation"].num_independent)
            return contrib_tpu.TPUEstimatorSpec(mode=mode, predictions=predictions)
        reconstruction_losses, kl_per_dim = [], []
        for view in range(2):
            mean, logvar = encoded["means"][view], encoded["logvars"][view]
            sampled = self.sample_from_latent_distribution(mean, logvar)
            with tf.variable_scope(tf.get_variable_scope(), reuse=tf.AUTO_REUSE):
                reconstruction = self.decode(sampled, image_shape, is_training)
            reconstruction_losses.append(tf.reduce_mean(
                losses.make_reconstruction_loss(features[:, view], reconstruction)))
            kl_per_dim.append(0.5 * (tf.square(mean) + tf.exp(logvar) - logvar - 1.))
        reconstruction_loss = tf.add_n(reconstruction_losses) / 2.
        kl_loss = tf.reduce_mean(pair_kl(*kl_per_dim, encoded["aggregation"].independent,
                                         self.shared_kl), name="kl_loss")
        regularizer = self.regularizer(kl_loss, None, None, None)
        aggregation_loss = tf.reduce_mean(encoded["aggregation"].loss)
        loss = tf.add_n([reconstruction_loss, regularizer, aggregation_loss], name="loss")
        elbo = tf.add(reconstruction_loss, kl_loss, name="elbo")
        # k_hat independent latent dimensions estimate the k = F - s factors that differ within a
        # pair (unused dimensions have gamma ~ 0 and count as shared), so s_hat = F - k_hat.
        num_independent = encoded["aggregation"].num_independent                    # k_hat
        num_factors = labels["shared_mask"].shape[-1]
        num_shared = num_factors - num_independent                                   # s_hat
        if mode == tf.estimator.ModeKeys.TRAIN:
            optimizer = optimizers.make_vae_optimizer()
            update_ops = tf.get_collection(tf.GraphKeys.UPDATE_OPS)
            train_op = optimizer.minimize(loss=loss, global_step=tf.train.get_global_step())
            train_op = tf.group([train_op, update_ops])
            logged = {"step": tf.train.get_global_step(), "loss": loss,
                      "reconstruction_loss": reconstruction_loss, "kl_loss": kl_loss,
                      "k_hat": tf.reduce_mean(num_independent),
                      "s_hat": tf.reduce_mean(num_shared)}
            logged.update(encoded["aggregation"].summaries)
            for name, value in logged.items():
                if name != "step":
                    tf.summary.scalar(name, value)
            logging_hook = progress.ProgressHook(logged, _log_every_n_steps(),
                                                 params.get("training_steps"))
            return contrib_tpu.TPUEstimatorSpec(mode=mode, loss=loss, train_op=train_op,
                                                training_hooks=[logging_hook])
        if mode == tf.estimator.ModeKeys.EVAL:
            # Both definitions of s_hat: F - k_hat (above) and the paper's d - k_hat (d latent
            # dimensions); per pair, against the pair's own s (it varies with random or "dlib"
            # pairs), with the moments of s for the constant reference estimators.
            s_true = tf.cast(labels["num_shared"], tf.float32)
            num_shared_latent = float(encoded["gamma"].shape[-1]) - num_independent
            names = ["reconstruction_loss", "elbo", "regularizer", "kl_loss", "k_hat_mean",
                     "s_hat_mean", "mse_s", "s_hat_latent_mean", "mse_s_latent", "s_true_mean",
                     "s_true_sq_mean"]
            values = [tf.fill(tf.shape(s_true), reconstruction_loss),
                      tf.fill(tf.shape(s_true), -elbo), tf.fill(tf.shape(s_true), regularizer),
                      tf.fill(tf.shape(s_true), kl_loss), num_independent, num_shared,
                      tf.square(num_shared - s_true), num_shared_latent,
                      tf.square(num_shared_latent - s_true), s_true, tf.square(s_true)]
            return contrib_tpu.TPUEstimatorSpec(
                mode=mode, loss=loss, eval_metrics=(vae.make_metric_fn(*names), values))
        raise ValueError(f"Unknown mode {mode!r}.")


@gin.configurable("group_vae_logging", allowlist=["every_n_steps"])
def _log_every_n_steps(every_n_steps=100):
    return every_n_steps
