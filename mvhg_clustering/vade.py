# Copyright 2026 The tfp-mvhg authors.
# SPDX-License-Identifier: Apache-2.0
"""VaDE (Jiang et al. 2016) with three priors on the cluster assignments of a batch.

#### Model

Clusters k = 1..K, latent dimension D. For a batch of B images x_1..x_B:

    c = (c_1..c_B) ~ p(c; prior),   z_i | c_i ~ N(mu_{c_i}, diag sigma2_{c_i}),
    x_i | z_i ~ Bernoulli(decoder(z_i))  (pixel values in [0, 1] used as soft targets).

Priors p(c) on the batch's assignments (the only difference between the three runs):

    uniform         log p(c) = -B log K                                  (no parameters)
    categorical     log p(c) = sum_k n_k log pi_k,  pi = softmax(phi)    (phi learned)
    hypergeometric  log p(c) = log MVHG(n; m = [B]*K, n = B, theta) - log (B! / prod_k n_k!)

where n_k = #{i : c_i = k} are the cluster sizes of the batch. The hypergeometric prior puts the
exact `tfp_mvhg.MultivariateHypergeometric.log_prob` on the sizes and spreads it uniformly over
the B! / prod n_k! assignments that give them; its log-weights theta are learned.

#### Inference and ELBO

    q(z_i | x_i) = N(mu~(x_i), diag sigma2~(x_i))                      (encoder)
    q(c_i = k | x_i) ∝ p(c_i = k) exp(E_{q(z_i|x_i)} log N(z_i; mu_k, sigma2_k))

with p(c_i = k) the prior's marginal (1/K; pi_k; E[n_k] / B of the MVHG): VaDE's
q(c|x) = p(c|z), in its mean-field form (the expectation over z replaces VaDE's single z sample,
so q(c|x) is a function of x only). The ELBO of a batch is

    sum_i { E_q log p(x_i|z_i) + E_q log p(z_i|c_i) - E_q log q(c_i|x_i) + H[q(z_i|x_i)] }
      + beta E_q log p(c),      beta = `prior_term_scale` (1: the ELBO; see below),

all terms analytic except the reconstruction (one reparameterized z sample per image) and the
prior term E_q log p(c), which is evaluated at one Gumbel-softmax sample of the assignments:
hard one-hots in the forward pass (exact categorical draws), the gradient of the relaxed ones
softmax((log q + g) / tau) (straight-through), and counts n = sum_i one-hot_i. The same estimator
is used for all three priors (for the uniform prior the term is constant). The temperature tau
follows `tfp_mvhg.temperature_schedule` over the joint-training steps.

#### Gradients into the prior weights and into q(c|x): the same for every prior

The prior's marginal inside q(c|x) is held fixed by a stop-gradient, for both learned priors:

    d loss / d phi   = -(beta/B) d log p(c) / d phi   = -(beta/B) (n - B pi)         (categorical)
    d loss / d theta = -(beta/B) d log p(c) / d theta = -(beta/B) (n - E_theta[n])   (hypergeom.)

i.e. the weights learn only from the prior term, by the likelihood of the sampled counts, and
q(c|x) receives the prior term only through the straight-through counts (plus, like every other
term, through its own dependence on the encoder and the GMM). Why: q(c|x) maximizes the per-image
terms sum_k q_k [log p(c=k) + E log p(z|c=k) - log q_k] over q, so by the envelope theorem the
gradient through q's dependence on the weights vanishes there; the stop-gradient makes it exactly
zero. Without it the categorical weights got an extra gradient through q (log_softmax(phi) inside
q) which the MVHG's marginal E[n]/B never had (the code before this fix), so the two priors differed
by their estimator, not only by p(c) (`test_prior_weights_learn_only_from_the_prior_term`).

#### Options: the prior-term scale beta and fixed prior weights (defaults: 1, learned)

The loss is a per-image average, -(1/B) sum_i (per-image terms of image i) - (beta/B) log p(c),
so one image's relaxed one-hot gets (1/B) x O(1) from its own terms (the differences of
E log p(z_i|c_i = k) between clusters, several nats) and from the prior term

    (beta / B) d log p(c) / d n_k =  (beta / B) log pi_k                        (categorical)
                                     (beta / B) (theta_k + psi(B - n_k + 1))    (hypergeometric)

(psi = digamma; log MVHG = sum_k [log C(B, n_k) + n_k theta_k] - log P0, and the multinomial
coefficient's lgamma(n_k + 1) cancels; a further -psi(B + 1), common to all k, has no effect on a
one-hot). Both are O(1/B): at beta = 1 the prior term acts on q(c|x) as strongly as a per-image
log-prior would (it is not an O(1/B) correction to O(1) terms, as an earlier version of this text
said), and beta > 1 weighs the batch's prior above the data. `prior_term_scale` = beta > 0
strengthens it through q(c|x) and the encoder only: the weights' updates do not see it (their
only gradient is the prior term's, and Adam, which trains them, is invariant to rescaling a
gradient). The priors differ in kind: the categorical term is linear in the counts (it pushes
every image towards the largest pi_k), the hypergeometric term is concave (psi(B - n_k + 1) falls
with n_k: it pulls a batch's counts back towards its mode, with strength psi'(B - n_k + 1) ~
1 / (B - n_k) per count).

#### Why the hypergeometric and categorical priors agree here (m_k = B)

With m_k = B items per class and n = B draws the urn is K times the draw: for equal weights the
MVHG's count variance is B (1/K)(1 - 1/K) (KB - B)/(KB - 1), the multinomial's times the
finite-population factor (K - 1) B / (KB - 1) ~ (K - 1)/K (0.90 at K = 10, B = 128); against a
multinomial with the same mean, the factor is 0.85-0.97 for weights linspace(0.5, 3, 10) and
0.71-0.99 for geomspace(0.1, 10, 10) (`test_the_batch_mvhg_is_close_to_a_multinomial`). In the
per-image force above, psi(B - n_k + 1) = log B - (n_k - 1/2)/B + O((n_k/B)^2), so
theta_k + psi(B - n_k + 1) is the categorical force with theta in place of log pi (up to a
constant in k) plus a restoring term -n_k / B, of order 1/K. So with learned weights the two
priors are nearly the same model, as the committed tables show (`experiments/clustering/
README.md`: paired per seed, the mean ACC differences are 0.007 or less on MNIST-10k and
Fashion-MNIST, though one Fashion-MNIST seed ends 0.025 apart after 60 epochs from one start).
A prior where the urn matters needs capacities near the cluster sizes of the data set (m_k of
order N/K over all N images), not B.

With learned weights, a larger beta pushes both towards collapse: log p(c) <= 0, with equality in
the limit of all images in one cluster and all weight on it, so the joint maximum of the prior
term over the weights and the assignments is one cluster. `fix_prior_weights` keeps the weights at
their initial value (uniform, or the GMM's weights with `init_prior_from_gmm`; the marginal in
q(c|x) is then fixed too): no feedback from the model's cluster sizes into the prior, and the
hypergeometric term becomes a restoring force towards the fixed proportions, which beta sets the
strength of (beta = B weighs the batch's count prior like one image's term), while the categorical
term stays a constant push towards the largest pi_k.

#### Training (the recipe; `run.RECIPES` holds the defaults of the `vade` and `legacy` recipes)

1. Autoencoder pretraining (`pretrain_autoencoder`): encoder mean -> decoder, Bernoulli loss per
   image, Adam; optionally denoising, x~ = x * m with m_j ~ Bernoulli(1 - p) per pixel
   (`noise` = p, masking noise as in the stacked denoising autoencoders of DEC/VaDE), the loss
   against the clean x. Screening variants (defaults unchanged): squared-error loss with a linear
   output (`loss="mse"`, DEC/IDEC's), a geometric rate decay, Adam's weight decay, an L2 penalty
   on the latent means, DEC-keras' initialisation (`pretrain_autoencoder`); before it, DEC's
   greedy layer-wise pretraining with dropout (`pretrain_layerwise`).
2. GMM initialisation (`init_gmm`): a diagonal `sklearn.mixture.GaussianMixture` on the encoder
   means with `n_init` restarts, the one with the highest likelihood (lower bound) kept (never
   chosen by labels), `reg_covar` added to the variances; it sets mu_k and sigma2_k (the learned
   prior weights start uniform, phi = theta = 0, as in VaDE; optionally at the GMM's weights).
3. Joint training (`train_vade`) of everything on the negative ELBO per image with Adam
   (epsilon `adam_epsilon`, VaDE: 1e-4), learning rate at epoch e (0-based)

       lr_e = max(lr * decay ** floor(e / every), floor)        (VaDE: 2e-3, 0.9, 10, 2e-4)

   and the prior weights' own rate `prior_learning_rate * lr_e / lr` (their gradients are O(1/B)
   per image, so they need a larger step). Cluster predictions: argmax_k q(c = k | x).

Each epoch runs as one compiled `tf.function` over the images held in a float32 tensor (no
per-step Python work). Both loops are resumable: every `checkpoint_every` epochs and at their last
epoch they write a `tf.train.Checkpoint` (networks, GMM, prior, optimizer state, epoch counter) and
commit it with an atomically written `state.json` (`Checkpoints`); a rerun continues from it. The
randomness is a function of (seed, epoch, step) -- the batch order of epoch e is the e-th draw of
`np.random.default_rng(seed)` (seed + 1000 in joint training; replayed on resume), noise and Gumbel
samples use stateless seeds (seed, global step) -- so an interrupted and resumed run gives the same
result as an uninterrupted one.
"""

import json
import math
import os
import time

import numpy as np
import tensorflow as tf

import tfp_mvhg
from disentanglement_ext import files
from mvhg_clustering import ALL_PRIORS
from mvhg_clustering import PRIORS

__all__ = ["PRIORS", "ALL_PRIORS", "UniformPrior", "CategoricalPrior", "HypergeometricPrior",
           "CapacityPrior", "make_prior",
           "straight_through_assignments", "VaDE", "pretrain_autoencoder", "pretrain_layerwise",
           "init_gmm",
           "set_gmm", "gmm_predict", "learning_rate_at", "train_vade", "Checkpoints",
           "StoppedEarly"]


class StoppedEarly(Exception):
    """Training stopped at `stop_after_epochs` (a test hook); its checkpoint is written."""

    def __init__(self, phase, epoch):
        super().__init__(f"{phase} stopped after epoch {epoch} (stop_after_epochs)")
        self.phase, self.epoch = phase, epoch


def _check(name, value, ok, what):
    if not ok:
        raise ValueError(f"{name} must be {what}, got {value!r}.")


def _log_multinomial_coefficient(counts):
    """log (B! / prod_k n_k!) with B = sum_k n_k (differentiable in the counts)."""
    total = tf.reduce_sum(counts, axis=-1)
    return tf.math.lgamma(total + 1.) - tf.reduce_sum(tf.math.lgamma(counts + 1.), axis=-1)


class UniformPrior(tf.Module):
    """p(c) = K^-B: every assignment equally likely (fixed)."""

    kind = "uniform"

    def __init__(self, num_clusters, batch_size, learned=True):
        del learned  # nothing to learn
        super().__init__(name="uniform_prior")
        self.num_clusters, self.batch_size = int(num_clusters), int(batch_size)

    def log_prob(self, counts):
        """log p(c) of a batch whose cluster sizes are `counts [K]` (they must sum to B)."""
        return -tf.reduce_sum(counts) * math.log(self.num_clusters)

    def marginal_log_probs(self):
        """log p(c_i = k), `[K]`."""
        return tf.fill([self.num_clusters], -math.log(self.num_clusters))

    def init_from_proportions(self, proportions):
        del proportions

    def normalized_weights(self):
        return np.full(self.num_clusters, 1. / self.num_clusters)


class _WeightedPrior(tf.Module):
    """The learned-weight priors' common part: log-weights `logits` `[K]` (zeros: uniform),
    trainable unless `learned=False`."""

    def __init__(self, num_clusters, batch_size, learned, name):
        super().__init__(name=name)
        self.num_clusters, self.batch_size = int(num_clusters), int(batch_size)
        self.logits = tf.Variable(tf.zeros([self.num_clusters]), trainable=learned, name="logits")

    def init_from_proportions(self, proportions):
        """logits = log proportions (floored at 1e-6)."""
        self.logits.assign(np.log(np.maximum(proportions, 1e-6)).astype(np.float32))

    def normalized_weights(self):
        """omega / sum(omega) = softmax(logits) (the paper's Fig. 3 quantity)."""
        return tf.nn.softmax(self.logits).numpy().astype(np.float64)


class CategoricalPrior(_WeightedPrior):
    """i.i.d. assignments: p(c) = prod_i pi_{c_i} = prod_k pi_k^{n_k}, pi = softmax(phi)."""

    kind = "categorical"

    def __init__(self, num_clusters, batch_size, learned=True):
        super().__init__(num_clusters, batch_size, learned, name="categorical_prior")

    def log_prob(self, counts):
        return tf.reduce_sum(counts * tf.nn.log_softmax(self.logits))

    def marginal_log_probs(self):
        """log pi_k, held fixed (stop-gradient) like the hypergeometric prior's marginal."""
        return tf.stop_gradient(tf.nn.log_softmax(self.logits))


class HypergeometricPrior(_WeightedPrior):
    """Cluster sizes n ~ MVHG(m = [B]*K, n = B, omega = exp(theta)), assignments uniform given n.

    log p(c) = log MVHG(n) - log(B! / prod_k n_k!), with the exact `tfp_mvhg` log-pmf.
    """

    kind = "hypergeometric"

    def __init__(self, num_clusters, batch_size, learned=True):
        super().__init__(num_clusters, batch_size, learned, name="hypergeometric_prior")

    def distribution(self):
        return tfp_mvhg.MultivariateHypergeometric(
            num_per_class=[float(self.batch_size)] * self.num_clusters,
            total_count=float(self.batch_size), logits=self.logits)

    def log_prob(self, counts):
        return self.distribution().log_prob(counts) - _log_multinomial_coefficient(counts)

    def marginal_log_probs(self):
        """log p(c_i = k) = log(E[n_k] / B) (exchangeability), held fixed (stop-gradient)."""
        mean = tf.stop_gradient(self.distribution().mean())
        return tf.math.log(tf.maximum(mean, 1e-30) / float(self.batch_size))


class CapacityPrior(_WeightedPrior):
    """A data-set-level urn with real capacities (`capacity`; not one of the paper's priors).

    The N training images' assignments are N draws from an urn with m_k = f N / K items of
    cluster k (f = `capacity_factor` > 1) and Fisher's weights omega = exp(theta): counts
    N ~ MVHG(m, N, omega), assignments uniform given N, so

        p(c) ∝ prod_k omega_k^{N_k} m_k! / (m_k - N_k)!,
        p(c_i = k | c_-i) = omega_k (m_k - N_-i,k) / sum_j omega_j (m_j - N_-i,j)

    (exact: moving image i into cluster k multiplies p(c) by omega_k (m_k - N_-i,k)); a cluster
    near its capacity repels further images, however large its weight. Mean field: N_-i is
    replaced by running expected counts N^_k, an average of N x (batch mean of q(c = k | x)) with
    rate B / N per step (one epoch's memory; `update_counts`), started at the GMM's proportions,
    and m_k - N^_k is kept >= 1/2. The conditional p_k = p(c_i = k | N^) is the prior's marginal
    in q(c|x) (held fixed, stop-gradient), and the prior term of a batch with counts n is the
    pseudo-likelihood sum_i log p(c_i | c_-i) = sum_k n_k log p_k, whose gradient in theta is
    n - B p, as the categorical prior's. With fixed weights (uniform) it is a pure capacity prior.
    """

    kind = "capacity"

    def __init__(self, num_clusters, batch_size, learned=True, num_images=None,
                 capacity_factor=1.5):
        _check("num_images", num_images,
               num_images is not None and float(num_images).is_integer()
               and num_images >= batch_size, f"an integer >= batch_size {batch_size}")
        _check("capacity_factor", capacity_factor,
               math.isfinite(capacity_factor) and capacity_factor > 1,
               "a finite number > 1 (the urn must hold more than the N images)")
        super().__init__(num_clusters, batch_size, learned, name="capacity_prior")
        self.num_images, self.capacity_factor = int(num_images), float(capacity_factor)
        self.capacities = tf.constant(
            np.full(self.num_clusters, self.capacity_factor * self.num_images / self.num_clusters,
                    np.float32))
        self.expected_counts = tf.Variable(
            tf.fill([self.num_clusters], self.num_images / self.num_clusters), trainable=False,
            name="expected_counts")

    def conditional_log_probs(self, other_counts):
        """log p(c_i = k | c_-i) for the counts `other_counts [..., K]` of the other images."""
        room = tf.maximum(self.capacities - other_counts, 0.5)
        return tf.nn.log_softmax(self.logits + tf.math.log(room), axis=-1)

    def log_prob(self, counts):
        return tf.reduce_sum(
            counts * self.conditional_log_probs(tf.stop_gradient(self.expected_counts)))

    def marginal_log_probs(self):
        return tf.stop_gradient(self.conditional_log_probs(self.expected_counts))

    def update_counts(self, mean_assignment_probs):
        """N^ <- N^ + (B / N) (N q_mean - N^), `mean_assignment_probs [K]` a batch's mean q."""
        rate = self.batch_size / self.num_images
        self.expected_counts.assign_add(
            rate * (self.num_images * mean_assignment_probs - self.expected_counts))

    def reset_counts(self, proportions):
        self.expected_counts.assign(
            (self.num_images * np.asarray(proportions, np.float64)).astype(np.float32))


def make_prior(kind, num_clusters, batch_size, learned=True, num_images=None,
               capacity_factor=1.5):
    """The prior `kind` (`ALL_PRIORS`); `learned=False`: its weights are not trainable (fixed at
    their value). `num_images` (N) and `capacity_factor` are the capacity prior's."""
    if kind == "capacity":
        return CapacityPrior(num_clusters, batch_size, learned, num_images, capacity_factor)
    classes = {"uniform": UniformPrior, "categorical": CategoricalPrior,
               "hypergeometric": HypergeometricPrior}
    if kind not in classes:
        raise ValueError(f"prior must be one of {ALL_PRIORS}, got {kind!r}.")
    return classes[kind](num_clusters, batch_size, learned)


def straight_through_assignments(logits, temperature, seed):
    """One Gumbel-softmax sample per row of `logits [B, K]`.

    Returns `(one_hots [B, K], counts [K])`: hard one-hots (exact categorical draws) in the forward
    pass with the gradient of `softmax((logits + g) / tau)`, and their column sums. The
    straight-through correction is added as `soft - stop_gradient(soft)`, which is exactly 0 in
    the forward pass, so the counts are exact integers (as `log_prob` requires).
    """
    uniform = tf.random.stateless_uniform(tf.shape(logits), seed=seed, minval=1e-20, maxval=1.)
    gumbel = -tf.math.log(-tf.math.log(uniform))
    soft = tf.nn.softmax((logits + gumbel) / temperature, axis=-1)
    hard = tf.one_hot(tf.argmax(logits + gumbel, axis=-1), tf.shape(logits)[-1],
                      dtype=logits.dtype)
    one_hots = hard + (soft - tf.stop_gradient(soft))
    soft_counts = tf.reduce_sum(soft, axis=0)
    counts = tf.reduce_sum(hard, axis=0) + (soft_counts - tf.stop_gradient(soft_counts))
    return one_hots, counts


def _mlp(input_dim, sizes, name, final_activation=None):
    layers = [tf.keras.Input(shape=(input_dim,))] + [
        tf.keras.layers.Dense(size, activation="relu") for size in sizes[:-1]]
    layers.append(tf.keras.layers.Dense(sizes[-1], activation=final_activation))
    return tf.keras.Sequential(layers, name=name)


class VaDE(tf.keras.Model):
    """Encoder, decoder, Gaussian-mixture parameters and one of the three assignment priors;
    `prior_term_scale` = beta multiplies the prior term E_q log p(c) in the loss, and
    `fix_prior_weights` keeps the prior's weights at their initial value (module doc)."""

    def __init__(self, input_dim, num_clusters=10, latent_dim=10, hidden=(500, 500, 2000),
                 prior="uniform", batch_size=128, prior_term_scale=1., fix_prior_weights=False,
                 num_images=None, capacity_factor=1.5):
        super().__init__(name="vade")
        if not (math.isfinite(prior_term_scale) and prior_term_scale > 0):
            raise ValueError(f"prior_term_scale must be a finite number > 0, got "
                             f"{prior_term_scale!r}.")
        self.prior_term_scale = float(prior_term_scale)
        self.input_dim, self.num_clusters, self.latent_dim = input_dim, num_clusters, latent_dim
        self.batch_size = int(batch_size)
        hidden = tuple(hidden)
        self.encoder_body = _mlp(input_dim, hidden + (latent_dim,), "encoder")  # outputs the mean
        self.encoder_logvar = tf.keras.layers.Dense(
            latent_dim, kernel_initializer="zeros", name="encoder_logvar")
        self.decoder = _mlp(latent_dim, tuple(reversed(hidden)) + (input_dim,), "decoder")
        self.prior = make_prior(prior, num_clusters, batch_size, not fix_prior_weights,
                                num_images, capacity_factor)
        self.gmm_means = tf.Variable(tf.zeros([num_clusters, latent_dim]), name="gmm_means")
        self.gmm_logvars = tf.Variable(tf.zeros([num_clusters, latent_dim]), name="gmm_logvars")
        self.gmm_init_variances = np.ones([num_clusters, latent_dim])
        self.gmm_init_weights = np.full(num_clusters, 1. / num_clusters)
        # Build the layers so that weights exist before pretraining/loading.
        dummy = tf.zeros([1, input_dim])
        self.encode(dummy)
        self.decoder(tf.zeros([1, latent_dim]))

    def joint_variables(self):
        """Everything trained jointly: networks, GMM means/variances, the prior's weights (unless
        fixed)."""
        return (self.encoder_body.trainable_variables + self.encoder_logvar.trainable_variables
                + self.decoder.trainable_variables + [self.gmm_means, self.gmm_logvars]
                + list(self.prior.trainable_variables))

    def encode(self, x):
        """`(mean, logvar)` of q(z|x), each `[B, D]`. logvar reads the encoder's last hidden
        layer."""
        hidden = x
        for layer in self.encoder_body.layers[:-1]:
            hidden = layer(hidden)
        return self.encoder_body.layers[-1](hidden), self.encoder_logvar(hidden)

    def expected_log_pz(self, mean, logvar):
        """E_{q(z|x)} log N(z; mu_k, diag sigma2_k) for every cluster: `[B, K]`."""
        var = tf.exp(logvar)[:, None, :]
        gmm_var = tf.exp(self.gmm_logvars)[None]
        diff2 = tf.square(mean[:, None, :] - self.gmm_means[None])
        return -0.5 * tf.reduce_sum(
            math.log(2. * math.pi) + self.gmm_logvars[None] + (var + diff2) / gmm_var, axis=-1)

    def cluster_logits(self, mean, logvar, expected_log_pz=None):
        """Unnormalized log q(c = k | x): `[B, K]`."""
        if expected_log_pz is None:
            expected_log_pz = self.expected_log_pz(mean, logvar)
        return self.prior.marginal_log_probs()[None] + expected_log_pz

    def elbo_terms(self, x, temperature, seed):
        """Per-image averages of the ELBO terms of a batch `x [B, input_dim]` (B = batch_size).

        `log_pc` is log p(c) / B unscaled; the loss is -(the other terms + beta * log_pc).
        """
        seed = tf.convert_to_tensor(seed)
        mean, logvar = self.encode(x)
        eps = tf.random.stateless_normal(
            tf.shape(mean), seed=tf.random.experimental.stateless_fold_in(seed, 1))
        z = mean + tf.exp(0.5 * logvar) * eps
        recon_logits = self.decoder(z)
        recon = -tf.reduce_sum(
            tf.nn.sigmoid_cross_entropy_with_logits(labels=x, logits=recon_logits), axis=-1)
        elog_pz = self.expected_log_pz(mean, logvar)
        logits = self.cluster_logits(mean, logvar, elog_pz)
        log_q = tf.nn.log_softmax(logits, axis=-1)
        q = tf.exp(log_q)
        log_pz = tf.reduce_sum(q * elog_pz, axis=-1)
        neg_entropy_c = tf.reduce_sum(q * log_q, axis=-1)
        entropy_z = 0.5 * tf.reduce_sum(math.log(2. * math.pi * math.e) + logvar, axis=-1)
        _, counts = straight_through_assignments(logits, temperature, seed)
        log_pc = self.prior.log_prob(counts) / tf.cast(tf.shape(x)[0], x.dtype)
        elbo = (tf.reduce_mean(recon + log_pz - neg_entropy_c + entropy_z)
                + self.prior_term_scale * log_pc)
        return {"loss": -elbo, "recon": tf.reduce_mean(recon), "log_pz": tf.reduce_mean(log_pz),
                "entropy_c": -tf.reduce_mean(neg_entropy_c),
                "entropy_z": tf.reduce_mean(entropy_z), "log_pc": log_pc,
                "mean_q": tf.reduce_mean(q, axis=0)}

    @tf.function(reduce_retracing=True)
    def _encode_compiled(self, x):
        return self.encode(x)

    def embed(self, x, batch=2048):
        """`(mean, logvar)` of q(z|x) for every row of `x` (numpy), in batches."""
        means, logvars = [], []
        for start in range(0, len(x), batch):
            mean, logvar = self._encode_compiled(tf.convert_to_tensor(x[start:start + batch]))
            means.append(mean.numpy())
            logvars.append(logvar.numpy())
        return np.concatenate(means), np.concatenate(logvars)

    @tf.function(reduce_retracing=True)
    def _loss_compiled(self, x, seed):
        return self.elbo_terms(x, tf.constant(1.), seed)["loss"]

    def mean_loss(self, x, seed=0):
        """The training loss (negative ELBO per image, beta included) averaged over the full
        batches of `x` in order (the prior term needs exactly B images; the rest is left out;
        nan if `x` has fewer than B rows). Its sampled parts use stateless seeds (seed, batch)."""
        losses = [float(self._loss_compiled(tf.convert_to_tensor(x[start:start + self.batch_size]),
                                            tf.constant([seed, index], tf.int64)))
                  for index, start in enumerate(range(0, len(x) - self.batch_size + 1,
                                                      self.batch_size))]
        return float(np.mean(losses)) if losses else float("nan")

    def predict_clusters(self, x, batch=2048):
        """argmax_k q(c = k | x) for every row of `x`, and q itself."""
        mean, logvar = self.embed(x, batch)
        logits = self.cluster_logits(tf.constant(mean), tf.constant(logvar)).numpy()
        probs = tf.nn.softmax(logits, axis=-1).numpy()
        return np.argmax(logits, axis=-1), probs


def gmm_predict(z, means, variances, weights):
    """argmax_k [log w_k + log N(z; mu_k, diag variances_k)] for every row of `z [N, D]`: the
    diagonal GMM's assignment (what `GaussianMixture.predict` gives), e.g. on held-out images."""
    z = np.asarray(z, np.float64)[:, None, :]
    means, variances = np.asarray(means, np.float64)[None], np.asarray(variances, np.float64)[None]
    log_joint = np.log(np.asarray(weights, np.float64)) - 0.5 * np.sum(
        np.log(2. * np.pi * variances) + np.square(z - means) / variances, axis=-1)
    return np.argmax(log_joint, axis=-1)


def learning_rate_at(epoch, learning_rate, decay=1., every=1, floor=0.):
    """lr_e = max(learning_rate * decay ** floor(epoch / every), floor) at epoch `epoch` (0-based):
    VaDE's schedule with (2e-3, 0.9, 10, 2e-4); (lr, 1, 1, 0) is a constant rate."""
    return max(learning_rate * decay ** (int(epoch) // int(every)), floor)


def _check_schedule(learning_rate, lr_decay, lr_decay_every, lr_floor, adam_epsilon):
    _check("learning_rate", learning_rate, math.isfinite(learning_rate) and learning_rate > 0,
           "a finite number > 0")
    _check("lr_decay", lr_decay, 0 < lr_decay <= 1, "in (0, 1]")
    _check("lr_decay_every", lr_decay_every,
           float(lr_decay_every).is_integer() and lr_decay_every >= 1, "an integer >= 1")
    _check("lr_floor", lr_floor, 0 <= lr_floor <= learning_rate,
           f"in [0, learning_rate = {learning_rate}]")
    _check("adam_epsilon", adam_epsilon, math.isfinite(adam_epsilon) and adam_epsilon > 0,
           "a finite number > 0")


def _check_loop(epochs, checkpoint_every, stop_after_epochs):
    _check("epochs", epochs, float(epochs).is_integer() and epochs >= 0, "an integer >= 0")
    _check("checkpoint_every", checkpoint_every,
           float(checkpoint_every).is_integer() and checkpoint_every >= 0,
           "an integer >= 0 (0: no checkpoints)")
    _check("stop_after_epochs", stop_after_epochs,
           stop_after_epochs is None or (float(stop_after_epochs).is_integer()
                                         and stop_after_epochs >= 0), "None or an integer >= 0")


def _normalized(value):
    """`value` as it reads back from JSON (tuples become lists, numpy scalars plain numbers)."""
    return json.loads(json.dumps(value, default=float))


class Checkpoints:
    """The checkpoints of one training loop in `folder`, resumable after a kill anywhere.

    `save(epoch, history)` writes `tf.train.Checkpoint(epoch=counter, **trackables)` to
    `folder/ckpt-{epoch}` and then commits it by atomically writing `folder/state.json`
    (`{"epoch", "prefix", "settings", "history"}`, `files.atomic_write`); older checkpoints are
    removed after the commit, so a kill leaves the last committed one readable. `restore()` returns
    `(epoch, history)` of the committed checkpoint and loads its variables, or `(0, [])` if there
    is none, or if it was written with other `settings` (said in `log`; `clear()` removes it).
    `every` = 0 or `folder` None: no checkpoints.
    """

    STATE = "state.json"

    def __init__(self, folder, every, settings, log=print, **trackables):
        self.folder, self.every, self.log = folder, int(every), log
        self.settings = _normalized(settings)
        self.counter = tf.Variable(0, dtype=tf.int64, trainable=False, name="epoch")
        self.checkpoint = tf.train.Checkpoint(epoch=self.counter, **trackables)

    @property
    def enabled(self):
        return self.folder is not None and self.every > 0

    def restore(self):
        if not self.enabled:
            return 0, []
        state = files.read_json(os.path.join(self.folder, self.STATE))
        if not isinstance(state, dict):
            return 0, []
        if state.get("settings") != self.settings:
            old = state.get("settings") or {}
            changed = sorted(key for key in set(old) | set(self.settings)
                             if old.get(key) != self.settings.get(key))
            changes = ", ".join(f"{key}: {old.get(key)!r} -> {self.settings.get(key)!r}"
                                for key in changed)
            self.log(f"checkpoint {self.folder} was written with other settings ({changes}); "
                     "starting afresh")
            self.clear()
            return 0, []
        try:
            self.checkpoint.read(os.path.join(self.folder, state["prefix"])) \
                .assert_existing_objects_matched()
        except (tf.errors.OpError, AssertionError, ValueError, KeyError) as error:
            raise ValueError(
                f"checkpoint {self.folder} is unreadable ({type(error).__name__}: {error}); "
                "delete that folder to start this training afresh") from None
        if int(self.counter.numpy()) != state["epoch"]:
            raise ValueError(f"checkpoint {self.folder}: epoch {int(self.counter.numpy())} in the "
                             f"checkpoint, {state['epoch']} in {self.STATE}; delete that folder "
                             "to start this training afresh")
        return int(state["epoch"]), list(state["history"])

    def due(self, epoch, last_epoch, stop_after_epochs=None):
        """Whether epoch `epoch` (1-based, just finished) is checkpointed."""
        return self.enabled and (epoch % self.every == 0 or epoch == last_epoch
                                 or epoch == stop_after_epochs)

    def save(self, epoch, history):
        os.makedirs(self.folder, exist_ok=True)
        self.counter.assign(epoch)
        prefix = f"ckpt-{epoch}"
        self.checkpoint.write(os.path.join(self.folder, prefix))
        files.atomic_write(os.path.join(self.folder, self.STATE), json.dumps(
            {"epoch": epoch, "prefix": prefix, "settings": self.settings, "history": history},
            default=float))
        for name in os.listdir(self.folder):
            if name.startswith("ckpt-") and not name.startswith(prefix + "."):
                os.remove(os.path.join(self.folder, name))

    def clear(self):
        """Removes this loop's checkpoints and state; other loops' subfolders stay (the layer-wise
        pairs checkpoint inside the end-to-end pretraining's folder)."""
        if self.folder is None or not os.path.isdir(self.folder):
            return
        for name in os.listdir(self.folder):
            if name.startswith("ckpt-") or name == self.STATE:
                os.remove(os.path.join(self.folder, name))


def _replayed_rng(seed, epochs_done, num):
    """`np.random.default_rng(seed)` after `epochs_done` epochs' permutations of `num` images: the
    batch order of every epoch is the same whether a run resumed or not."""
    rng = np.random.default_rng(seed)
    for _ in range(epochs_done):
        rng.permutation(num)
    return rng


PRETRAIN_LOSSES = ("bce", "mse", "mse_sigmoid")
PRETRAIN_INITS = ("glorot", "dec")


def pretrain_learning_rate_at(epoch, epochs, learning_rate, final_learning_rate=None):
    """The pretraining rate of epoch `epoch` (0-based) of `epochs`: constant `learning_rate`, or
    with `final_learning_rate` a geometric decay from `learning_rate` (first epoch) to
    `final_learning_rate` (last epoch)."""
    if final_learning_rate is None or epochs <= 1:
        return learning_rate
    return learning_rate * (final_learning_rate / learning_rate) ** (epoch / (epochs - 1))


def reinitialize_dec(model, seed):
    """DEC-keras' initialisation of the encoder and decoder: kernels VarianceScaling(1/3,
    'fan_in', 'uniform') (uniform in +-1/sqrt(fan_in)), biases zero; stateless in `seed`."""
    for index, layer in enumerate(model.encoder_body.layers + model.decoder.layers):
        init = tf.keras.initializers.VarianceScaling(1. / 3., "fan_in", "uniform",
                                                     seed=int(seed) * 1000 + index)
        layer.kernel.assign(init(layer.kernel.shape))
        layer.bias.assign(tf.zeros_like(layer.bias))


def _epoch_runner(update, images, batch_size):
    """`(run_epoch, steps_per_epoch)`: `run_epoch(order, first_step)` applies
    `update(batch, global_step)` (a step returning its float64 loss) to the images `[N, D]` in the
    order `order` (a numpy permutation of N), in full batches of `batch_size` (one compiled loop)
    and a smaller last one, global steps counted from `first_step`; returns the mean step loss."""
    num, batch_size = int(images.shape[0]), int(batch_size)
    num_full = num // batch_size
    remainder = num - num_full * batch_size

    @tf.function
    def full_batches(order, first_step):
        total = tf.constant(0., tf.float64)
        for i in tf.range(num_full):
            total += update(tf.gather(images, order[i]), first_step + tf.cast(i, tf.int64))
        return total

    @tf.function
    def last_batch(index, global_step):
        return update(tf.gather(images, index), global_step)

    def run_epoch(order, first_step):
        total = float(full_batches(tf.constant(order[:num_full * batch_size].reshape(
            num_full, batch_size)), tf.constant(first_step, tf.int64)))
        if remainder:
            total += float(last_batch(tf.constant(order[num_full * batch_size:]),
                                      tf.constant(first_step + num_full, tf.int64)))
        return total / (num_full + (remainder > 0))

    return run_epoch, num_full + (remainder > 0)


def pretrain_autoencoder(model, x, epochs, batch_size=256, learning_rate=1e-3, seed=0, noise=0.,
                         checkpoint_dir=None, checkpoint_every=10, stop_after_epochs=None,
                         log=print, loss="bce", final_learning_rate=None, weight_decay=0.,
                         latent_l2=0., init="glorot"):
    """Autoencoder pretraining: encoder mean -> decoder, Bernoulli loss per image, Adam
    (`learning_rate`, Keras' default epsilon), every image once per epoch in batches of
    `batch_size` (the last one smaller). `noise` = p in [0, 1): denoising, the input pixels are
    zeroed with probability p (stateless seed (seed, step)), the loss is against the clean image.

    Variants (the defaults are the recipe's; each exists to screen what makes the latent means
    cluster): `loss` "bce" (the decoder's output are Bernoulli logits, as in joint training),
    "mse" (the output is linear, squared error summed over pixels, DEC/IDEC's pretraining; joint
    training then still reads the output as logits) or "mse_sigmoid" (squared error of the
    output's sigmoid: the decoder stays one of Bernoulli logits); `final_learning_rate`: a
    geometric decay of the rate per epoch down to it at the last epoch
    (`pretrain_learning_rate_at`);
    `weight_decay`: Adam's decoupled decay (Keras: each step subtracts lr * weight_decay * w);
    `latent_l2`: adds latent_l2 * mean_i ||encoder mean_i||^2 to the loss; `init` "glorot"
    (Keras' default, as built) or "dec" (`reinitialize_dec`, before the first epoch).

    Checkpoints into `checkpoint_dir` every `checkpoint_every` epochs and at the last epoch
    (`Checkpoints`) and resumes from there; `stop_after_epochs` = k stops after epoch k (its
    checkpoint written) by raising `StoppedEarly`. Returns the per-epoch mean losses.
    """
    _check_loop(epochs, checkpoint_every, stop_after_epochs)
    _check("noise", noise, 0 <= noise < 1, "in [0, 1)")
    _check("learning_rate", learning_rate, math.isfinite(learning_rate) and learning_rate > 0,
           "a finite number > 0")
    _check("loss", loss, loss in PRETRAIN_LOSSES, f"one of {PRETRAIN_LOSSES}")
    _check("init", init, init in PRETRAIN_INITS, f"one of {PRETRAIN_INITS}")
    _check("final_learning_rate", final_learning_rate, final_learning_rate is None or (
        math.isfinite(final_learning_rate) and final_learning_rate > 0), "None or a number > 0")
    _check("weight_decay", weight_decay, math.isfinite(weight_decay) and weight_decay >= 0,
           "a finite number >= 0")
    _check("latent_l2", latent_l2, math.isfinite(latent_l2) and latent_l2 >= 0,
           "a finite number >= 0")
    variables = model.encoder_body.trainable_variables + model.decoder.trainable_variables
    optimizer = tf.keras.optimizers.Adam(learning_rate, weight_decay=weight_decay or None)
    optimizer.build(variables)
    images = tf.constant(np.asarray(x, np.float32))
    num = len(x)
    seed_tensor = tf.constant(seed, tf.int64)

    def update(batch, global_step):
        inputs = batch
        if noise > 0:
            step_seed = tf.random.experimental.stateless_fold_in(
                tf.stack([seed_tensor, global_step]), 2)
            keep = tf.random.stateless_uniform(tf.shape(batch), seed=step_seed) >= noise
            inputs = batch * tf.cast(keep, batch.dtype)
        with tf.GradientTape() as tape:
            latent = model.encoder_body(inputs)
            output = model.decoder(latent)
            if loss == "mse":
                recon = tf.reduce_mean(tf.reduce_sum(tf.square(output - batch), -1))
            elif loss == "mse_sigmoid":
                recon = tf.reduce_mean(tf.reduce_sum(tf.square(tf.sigmoid(output) - batch), -1))
            else:
                recon = tf.reduce_mean(tf.reduce_sum(
                    tf.nn.sigmoid_cross_entropy_with_logits(labels=batch, logits=output), -1))
            total = recon
            if latent_l2:
                total += latent_l2 * tf.reduce_mean(tf.reduce_sum(tf.square(latent), -1))
        optimizer.apply_gradients(zip(tape.gradient(total, variables), variables, strict=True))
        return tf.cast(recon, tf.float64)

    run_epoch, steps_per_epoch = _epoch_runner(update, images, batch_size)
    settings = {"phase": "pretrain", "epochs": epochs, "num_images": num,
                "batch_size": int(batch_size), "learning_rate": learning_rate, "seed": seed,
                "noise": noise}
    defaults = {"loss": "bce", "final_learning_rate": None, "weight_decay": 0., "latent_l2": 0.,
                "init": "glorot"}
    variants = {"loss": loss, "final_learning_rate": final_learning_rate,
                "weight_decay": weight_decay, "latent_l2": latent_l2, "init": init}
    # Only the non-default ones: a checkpoint of the default settings stays resumable.
    settings.update({key: value for key, value in variants.items() if value != defaults[key]})
    checkpoints = Checkpoints(checkpoint_dir, checkpoint_every, settings, log,
                              encoder=model.encoder_body, decoder=model.decoder,
                              optimizer=optimizer)
    start_epoch, history = checkpoints.restore()
    if start_epoch:
        log(f"pretraining resumed from {checkpoint_dir} at epoch {start_epoch}/{epochs}")
    elif init == "dec":
        reinitialize_dec(model, seed)
    rng = _replayed_rng(seed, start_epoch, num)
    for epoch in range(start_epoch, epochs):
        if stop_after_epochs is not None and epoch >= stop_after_epochs:
            raise StoppedEarly("pretraining", epoch)
        start = time.time()
        if final_learning_rate is not None:
            optimizer.learning_rate.assign(
                pretrain_learning_rate_at(epoch, epochs, learning_rate, final_learning_rate))
        history.append(run_epoch(rng.permutation(num), epoch * steps_per_epoch))
        seconds = time.time() - start
        log(f"pretrain epoch {epoch + 1}/{epochs} recon_{loss} {history[-1]:.3f} "
            f"({seconds:.1f}s, {1. / max(seconds, 1e-9):.2f} epochs/s)")
        if not math.isfinite(history[-1]):
            raise FloatingPointError(f"non-finite pretraining loss at epoch {epoch + 1}")
        if checkpoints.due(epoch + 1, epochs, stop_after_epochs):
            checkpoints.save(epoch + 1, history)
    return history


def pretrain_layerwise(model, x, epochs, batch_size=256, learning_rate=1e-3, seed=0, dropout=0.2,
                       init="glorot", checkpoint_dir=None, checkpoint_every=10,
                       stop_after_epochs=None, log=print):
    """DEC's greedy layer-wise pretraining of the encoder and decoder (before
    `pretrain_autoencoder` fine-tunes them end to end, without dropout).

    With L = len(hidden) + 1 layers, pair l = 0..L-1 is encoder layer l (h_l -> h_{l+1}) and its
    mirror, decoder layer L-1-l (h_{l+1} -> h_l), trained as a one-hidden-layer denoising
    autoencoder of the codes h_l of the clean images under the pairs before it (h_0 = x; fixed
    while pair l trains):

        loss_l = mean over the batch of || dec_l(drop(enc_l(drop(h_l)))) - h_l ||^2,

    drop: dropout with rate `dropout` (units zeroed with that probability, the rest scaled by
    1 / (1 - rate); stateless in (seed, pair, step)), each pair `epochs` epochs of Adam
    (`learning_rate`, a fresh optimizer per pair) in batches of `batch_size`, the batch order of
    pair l's epoch e the e-th permutation of `np.random.default_rng([seed, l])`. The activations
    are the model's own (ReLU; linear for the latent mean and the pixels' output), as in DEC.
    `init` "dec" re-initialises the networks first (`reinitialize_dec`); "glorot" keeps them.

    Pair l checkpoints into `checkpoint_dir/layer{l}` (`Checkpoints`; a finished pair keeps its
    last one, so a rerun skips it) and resumes there; `stop_after_epochs` = k stops after the
    k-th epoch of all pairs together (pair l's epoch e is number l * epochs + e + 1) by raising
    `StoppedEarly`. Returns each pair's per-epoch mean losses, `[L][epochs]`.
    """
    _check_loop(epochs, checkpoint_every, stop_after_epochs)
    _check("dropout", dropout, 0 <= dropout < 1, "in [0, 1)")
    _check("learning_rate", learning_rate, math.isfinite(learning_rate) and learning_rate > 0,
           "a finite number > 0")
    _check("init", init, init in PRETRAIN_INITS, f"one of {PRETRAIN_INITS}")
    _check("batch_size", batch_size, float(batch_size).is_integer() and batch_size >= 1,
           "an integer >= 1")
    encoder_layers, decoder_layers = model.encoder_body.layers, model.decoder.layers
    num_layers = len(encoder_layers)
    if init == "dec":
        reinitialize_dec(model, seed)
    histories = []
    for layer in range(num_layers):
        encoder, decoder = encoder_layers[layer], decoder_layers[num_layers - 1 - layer]
        variables = encoder.trainable_variables + decoder.trainable_variables
        optimizer = tf.keras.optimizers.Adam(learning_rate)
        optimizer.build(variables)
        settings = {"phase": "pretrain_layerwise", "layer": layer, "epochs": epochs,
                    "num_images": len(x), "batch_size": int(batch_size),
                    "learning_rate": learning_rate, "seed": seed, "dropout": dropout,
                    "init": init}
        checkpoints = Checkpoints(
            None if checkpoint_dir is None else os.path.join(checkpoint_dir, f"layer{layer}"),
            checkpoint_every, settings, log, encoder=encoder, decoder=decoder,
            optimizer=optimizer)
        start_epoch, history = checkpoints.restore()
        histories.append(history)
        if start_epoch >= epochs:
            continue
        if start_epoch:
            log(f"layer-wise pretraining of pair {layer + 1}/{num_layers} resumed at epoch "
                f"{start_epoch}/{epochs}")
        codes = np.asarray(x, np.float32)
        for below in encoder_layers[:layer]:
            codes = np.concatenate([below(tf.constant(codes[i:i + 4096])).numpy()
                                    for i in range(0, len(codes), 4096)])
        seed_pair = tf.constant([seed, layer], tf.int64)

        def update(batch, global_step, encoder=encoder, decoder=decoder, variables=variables,
                   optimizer=optimizer, seed_pair=seed_pair):
            keys = tf.random.experimental.stateless_split(
                tf.random.experimental.stateless_fold_in(seed_pair, global_step), 2)
            with tf.GradientTape() as tape:
                inputs = batch
                if dropout:
                    inputs = tf.nn.experimental.stateless_dropout(batch, dropout, seed=keys[0])
                hidden = encoder(inputs)
                if dropout:
                    hidden = tf.nn.experimental.stateless_dropout(hidden, dropout, seed=keys[1])
                loss = tf.reduce_mean(tf.reduce_sum(tf.square(decoder(hidden) - batch), -1))
            optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables, strict=True))
            return tf.cast(loss, tf.float64)

        run_epoch, steps_per_epoch = _epoch_runner(update, tf.constant(codes), batch_size)
        rng = _replayed_rng([seed, layer], start_epoch, len(x))
        stop = None if stop_after_epochs is None else stop_after_epochs - layer * epochs
        for epoch in range(start_epoch, epochs):
            if stop is not None and epoch >= stop:
                raise StoppedEarly("layer-wise pretraining", layer * epochs + epoch)
            start = time.time()
            history.append(run_epoch(rng.permutation(len(x)), epoch * steps_per_epoch))
            seconds = time.time() - start
            log(f"layer-wise pretrain pair {layer + 1}/{num_layers} epoch {epoch + 1}/{epochs} "
                f"recon_mse {history[-1]:.4f} ({seconds:.1f}s)")
            if not math.isfinite(history[-1]):
                raise FloatingPointError(f"non-finite layer-wise pretraining loss (pair "
                                         f"{layer + 1}, epoch {epoch + 1})")
            if checkpoints.due(epoch + 1, epochs, stop):
                checkpoints.save(epoch + 1, history)
    return histories


def init_gmm(model, x, seed=0, n_init=10, reg_covar=1e-6, init_prior_from_gmm=False):
    """Fits a diagonal GaussianMixture on the encoder means of `x` with `n_init` restarts (k-means
    initialisations with `random_state=seed`); scikit-learn keeps the restart with the highest
    likelihood lower bound (labels are never used); `reg_covar` is added to every variance. Sets
    mu_k, sigma2_k (and the learned prior weights to the GMM weights if `init_prior_from_gmm`;
    else they start uniform, as VaDE).

    Returns `(gmm_predictions, gmm_weights, fit)`, `fit` = {"lower_bound", "converged", "n_iter",
    "n_init", "reg_covar"} of the kept restart.
    """
    from sklearn.mixture import GaussianMixture  # pylint: disable=import-outside-toplevel
    _check("n_init", n_init, float(n_init).is_integer() and n_init >= 1, "an integer >= 1")
    _check("reg_covar", reg_covar, math.isfinite(reg_covar) and reg_covar > 0,
           "a finite number > 0")
    mean, _ = model.embed(x)
    gmm = GaussianMixture(model.num_clusters, covariance_type="diag", n_init=int(n_init),
                          random_state=seed, reg_covar=reg_covar)
    predictions = gmm.fit_predict(mean)
    set_gmm(model, gmm.means_, gmm.covariances_, gmm.weights_, init_prior_from_gmm)
    fit = {"lower_bound": float(gmm.lower_bound_), "converged": bool(gmm.converged_),
           "n_iter": int(gmm.n_iter_), "n_init": int(n_init), "reg_covar": float(reg_covar)}
    return predictions, gmm.weights_, fit


def set_gmm(model, means, variances, weights, init_prior_from_gmm=False):
    """Sets mu_k = `means`, sigma2_k = `variances`, the initial q(z|x) variance (0.1 x the mean
    GMM variance, small against the clusters) and, if `init_prior_from_gmm`, the prior's weights.
    Keeps `variances` as given (float64) in `model.gmm_init_variances`: set again from those, a
    model starts exactly where this one does (`exp` of the float32 log-variances does not)."""
    model.gmm_means.assign(np.asarray(means, np.float32))
    model.gmm_logvars.assign(np.log(np.asarray(variances, np.float32)))
    model.gmm_init_variances = np.asarray(variances, np.float64).copy()
    model.encoder_logvar.bias.assign(
        np.full(model.latent_dim, np.log(0.1 * model.gmm_init_variances.mean()), np.float32))
    model.gmm_init_weights = np.asarray(weights, np.float64).copy()
    if hasattr(model.prior, "reset_counts"):
        model.prior.reset_counts(model.gmm_init_weights)
    if init_prior_from_gmm:
        model.prior.init_from_proportions(model.gmm_init_weights)


LOSS_KEYS = ("loss", "recon", "log_pz", "entropy_c", "entropy_z", "log_pc")


def train_vade(model, x, epochs, learning_rate=2e-3, prior_learning_rate=1e-2, lr_decay=0.9,
               lr_decay_every=10, lr_floor=2e-4, adam_epsilon=1e-4, tau_init=1.0, tau_final=0.1,
               seed=0, evaluate=None, eval_every=1, checkpoint_dir=None, checkpoint_every=10,
               stop_after_epochs=None, log=print):
    """Joint training on the negative ELBO per image (defaults: VaDE's schedule, module doc).

    Adam (epsilon `adam_epsilon`) with `learning_rate_at(e, learning_rate, lr_decay,
    lr_decay_every, lr_floor)` for the networks and the GMM, and that times
    `prior_learning_rate / learning_rate` for the prior's weights (their gradients are O(1/B) per
    image, so they need a larger step). tau follows `tfp_mvhg.temperature_schedule(step,
    tau_init, tau_final, epochs * steps_per_epoch)`. Batches: a permutation per epoch of
    `np.random.default_rng(seed + 1000)`, the last partial batch dropped (the prior needs B).

    `evaluate(model) -> dict` (scores) runs after every `eval_every`-th epoch and the last one
    (`eval_every` = 0: the last only); its keys join that epoch's history record. Checkpoints as in
    `pretrain_autoencoder` (the model, both optimizers; the settings include everything above, so
    a changed setting starts afresh). Returns the history, one dict per epoch: the mean loss terms,
    tau, lr, seconds (training only) and the evaluation's keys.
    """
    _check_schedule(learning_rate, lr_decay, lr_decay_every, lr_floor, adam_epsilon)
    _check_loop(epochs, checkpoint_every, stop_after_epochs)
    _check("eval_every", eval_every, float(eval_every).is_integer() and eval_every >= 0,
           "an integer >= 0 (0: the last epoch only)")
    batch_size = model.batch_size
    if len(x) < batch_size:
        raise ValueError(f"{len(x)} images is fewer than one batch of {batch_size}.")
    steps_per_epoch = len(x) // batch_size
    n_steps = max(epochs * steps_per_epoch, 1)
    optimizer = tf.keras.optimizers.Adam(learning_rate, epsilon=adam_epsilon)
    prior_optimizer = tf.keras.optimizers.Adam(prior_learning_rate, epsilon=adam_epsilon)
    prior_variables = list(model.prior.trainable_variables)
    variables = [v for v in model.joint_variables()
                 if not any(v is p for p in prior_variables)]
    optimizer.build(variables)
    if prior_variables:
        prior_optimizer.build(prior_variables)
    images = tf.constant(np.asarray(x, np.float32))
    seed_tensor = tf.constant(seed, tf.int64)

    @tf.function
    def run_epoch(order, first_step):
        sums = tf.zeros([len(LOSS_KEYS) + 1], tf.float64)
        for i in tf.range(steps_per_epoch):
            global_step = first_step + tf.cast(i, tf.int64)
            temperature = tfp_mvhg.temperature_schedule(global_step, tau_init, tau_final, n_steps)
            with tf.GradientTape() as tape:
                terms = model.elbo_terms(tf.gather(images, order[i]), temperature,
                                         tf.stack([seed_tensor, global_step]))
            grads = tape.gradient(terms["loss"], variables + prior_variables)
            optimizer.apply_gradients(zip(grads[:len(variables)], variables, strict=True))
            if prior_variables:
                prior_optimizer.apply_gradients(
                    zip(grads[len(variables):], prior_variables, strict=True))
            if hasattr(model.prior, "update_counts"):
                model.prior.update_counts(tf.stop_gradient(terms["mean_q"]))
            sums += tf.cast(tf.stack([terms[key] for key in LOSS_KEYS] + [temperature]),
                            tf.float64)
        return sums / steps_per_epoch

    settings = {"phase": "joint", "epochs": epochs, "num_images": len(x), "batch_size": batch_size,
                "prior": model.prior.kind, "prior_term_scale": model.prior_term_scale,
                "capacity_factor": getattr(model.prior, "capacity_factor", None),
                "learned_prior": bool(prior_variables), "learning_rate": learning_rate,
                "prior_learning_rate": prior_learning_rate, "lr_decay": lr_decay,
                "lr_decay_every": lr_decay_every, "lr_floor": lr_floor,
                "adam_epsilon": adam_epsilon, "tau_init": tau_init, "tau_final": tau_final,
                "seed": seed, "init": float(np.sum(np.square(model.gmm_means.numpy())))}
    checkpoints = Checkpoints(checkpoint_dir, checkpoint_every, settings, log, model=model,
                              optimizer=optimizer, prior_optimizer=prior_optimizer)
    start_epoch, history = checkpoints.restore()
    if start_epoch:
        log(f"joint training resumed from {checkpoint_dir} at epoch {start_epoch}/{epochs}")
    rng = _replayed_rng(seed + 1000, start_epoch, len(x))
    for epoch in range(start_epoch, epochs):
        if stop_after_epochs is not None and epoch >= stop_after_epochs:
            raise StoppedEarly("joint training", epoch)
        rate = learning_rate_at(epoch, learning_rate, lr_decay, lr_decay_every, lr_floor)
        # the optimizers' own rate variables (Keras copies a tf.Variable given to it)
        optimizer.learning_rate.assign(rate)
        prior_optimizer.learning_rate.assign(prior_learning_rate * rate / learning_rate)
        order = rng.permutation(len(x))[:steps_per_epoch * batch_size]
        start = time.time()
        means = run_epoch(tf.constant(order.reshape(steps_per_epoch, batch_size)),
                          tf.constant(epoch * steps_per_epoch, tf.int64)).numpy()
        seconds = time.time() - start
        record = {"epoch": epoch + 1, **dict(zip(LOSS_KEYS + ("tau",), means.tolist(),
                                                 strict=True)), "lr": rate}
        if not np.isfinite(record["loss"]):
            raise FloatingPointError(f"non-finite loss at epoch {epoch + 1}: {record}")
        if evaluate is not None and (epoch + 1 == epochs
                                     or (eval_every and (epoch + 1) % eval_every == 0)):
            eval_start = time.time()
            record.update(evaluate(model))
            record["eval_seconds"] = time.time() - eval_start
        record["seconds"] = seconds
        history.append(record)
        extra = " ".join(f"{key} {record[key]:.4f}" for key in (
            "acc", "nmi", "ari", "train_acc", "test_loss") if key in record)
        log(f"epoch {epoch + 1}/{epochs} loss {record['loss']:.3f} recon {record['recon']:.3f} "
            f"log_pc {record['log_pc']:.3f} tau {record['tau']:.3f} lr {rate:.2e} {extra} "
            f"({seconds:.1f}s, {1. / max(seconds, 1e-9):.2f} epochs/s"
            + (f"; eval {record['eval_seconds']:.1f}s)" if "eval_seconds" in record else ")"))
        if checkpoints.due(epoch + 1, epochs, stop_after_epochs):
            checkpoints.save(epoch + 1, history)
    return history
