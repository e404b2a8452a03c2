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

with p(c_i = k) the prior's marginal (1/K; pi_k; E[n_k] / B of the MVHG, all held fixed inside
q by a stop-gradient): VaDE's q(c|x) = p(c|z), in its mean-field form (the expectation over z
replaces VaDE's single z sample, so q(c|x) is a function of x only). The ELBO of a batch is

    sum_i { E_q log p(x_i|z_i) + E_q log p(z_i|c_i) - E_q log q(c_i|x_i) + H[q(z_i|x_i)] }
      + beta E_q log p(c),      beta = `prior_term_scale` (1: the ELBO; see below),

all terms analytic except the reconstruction (one reparameterized z sample per image) and the
prior term E_q log p(c), which is evaluated at one Gumbel-softmax sample of the assignments:
hard one-hots in the forward pass (exact categorical draws), the gradient of the relaxed ones
softmax((log q + g) / tau) (straight-through), and counts n = sum_i one-hot_i. The same estimator
is used for all three priors (for the uniform prior the term is constant). The temperature tau
follows `tfp_mvhg.temperature_schedule` over the joint-training steps.

#### Options: the prior-term scale beta and fixed prior weights (defaults: 1, learned)

Per image, the prior term is log p(c) / B, so its gradient into one image's relaxed one-hot is

    (beta / B) d log p(c) / d n_k =  (beta / B) log pi_k                        (categorical)
                                     (beta / B) (theta_k + psi(B - n_k + 1))    (hypergeometric)

(psi = digamma; log MVHG = sum_k [log C(B, n_k) + n_k theta_k] - log P0, and the multinomial
coefficient's lgamma(n_k + 1) cancels; a further -psi(B + 1), common to all k, has no effect on a
one-hot), against O(1) for the per-image terms: at beta = 1, B = 128 the count prior barely acts on
q(c|x) and the encoder, which is why the two learned priors end up equal. `prior_term_scale` = beta
> 0 strengthens it through q(c|x) and the encoder only: the weights' updates do not see it (Adam,
which trains them, is invariant to rescaling their gradient). The priors then differ in kind: the
categorical term is linear in the counts (it pushes every image towards the largest pi_k), the
hypergeometric term is concave (psi(B - n_k + 1) falls with n_k: it pulls a batch's counts back
towards its mode, with strength psi'(B - n_k + 1) ~ 1 / (B - n_k) per count).

With learned weights, a larger beta pushes both towards collapse: log p(c) <= 0, with equality in
the limit of all images in one cluster and all weight on it, so the joint maximum of the prior
term over the weights and the assignments is one cluster. `fix_prior_weights` keeps the weights at
their initial value (uniform, or the GMM's weights with `init_prior_from_gmm`; the marginal in
q(c|x) is then fixed too): no feedback from the model's cluster sizes into the prior (the suspected
reason why the uniform prior beats the learned ones), and the hypergeometric term becomes a
restoring force towards the fixed proportions, which beta sets the strength of (beta = B weighs
the batch's count prior like one image's term), while the categorical term stays a constant push
towards the largest pi_k.

Training: autoencoder pretraining (encoder mean -> decoder, Bernoulli loss), a diagonal
`sklearn.mixture.GaussianMixture` on the encoder means initialises mu_k and sigma2_k (the learned
prior weights start uniform, phi = theta = 0, as in VaDE; optionally from the GMM weights), then
joint training of everything on the negative ELBO per image with Adam. Cluster predictions are
argmax_k q(c = k | x).
"""

import math
import time

import numpy as np
import tensorflow as tf

import tfp_mvhg
from mvhg_clustering import PRIORS

__all__ = ["PRIORS", "UniformPrior", "CategoricalPrior", "HypergeometricPrior", "make_prior",
           "straight_through_assignments", "VaDE", "pretrain_autoencoder", "init_gmm",
           "train_vade"]



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


class CategoricalPrior(tf.Module):
    """i.i.d. assignments: p(c) = prod_i pi_{c_i} = prod_k pi_k^{n_k}, pi = softmax(phi)."""

    kind = "categorical"

    def __init__(self, num_clusters, batch_size, learned=True):
        super().__init__(name="categorical_prior")
        self.num_clusters, self.batch_size = int(num_clusters), int(batch_size)
        self.logits = tf.Variable(tf.zeros([self.num_clusters]), trainable=learned, name="logits")

    def log_prob(self, counts):
        return tf.reduce_sum(counts * tf.nn.log_softmax(self.logits))

    def marginal_log_probs(self):
        return tf.nn.log_softmax(self.logits)

    def init_from_proportions(self, proportions):
        self.logits.assign(np.log(np.maximum(proportions, 1e-6)).astype(np.float32))

    def normalized_weights(self):
        return tf.nn.softmax(self.logits).numpy().astype(np.float64)


class HypergeometricPrior(tf.Module):
    """Cluster sizes n ~ MVHG(m = [B]*K, n = B, omega = exp(theta)), assignments uniform given n.

    log p(c) = log MVHG(n) - log(B! / prod_k n_k!), with the exact `tfp_mvhg` log-pmf.
    """

    kind = "hypergeometric"

    def __init__(self, num_clusters, batch_size, learned=True):
        super().__init__(name="hypergeometric_prior")
        self.num_clusters, self.batch_size = int(num_clusters), int(batch_size)
        self.logits = tf.Variable(tf.zeros([self.num_clusters]), trainable=learned, name="logits")

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

    def init_from_proportions(self, proportions):
        self.logits.assign(np.log(np.maximum(proportions, 1e-6)).astype(np.float32))

    def normalized_weights(self):
        """omega / sum(omega) (the paper's Fig. 3 quantity)."""
        return tf.nn.softmax(self.logits).numpy().astype(np.float64)

    def marginal_probs(self):
        return self.distribution().mean().numpy().astype(np.float64) / self.batch_size


def make_prior(kind, num_clusters, batch_size, learned=True):
    """The prior `kind`; `learned=False`: its weights are not trainable (fixed at their value)."""
    classes = {"uniform": UniformPrior, "categorical": CategoricalPrior,
               "hypergeometric": HypergeometricPrior}
    if kind not in classes:
        raise ValueError(f"prior must be one of {PRIORS}, got {kind!r}.")
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
                 prior="uniform", batch_size=128, prior_term_scale=1., fix_prior_weights=False):
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
        self.prior = make_prior(prior, num_clusters, batch_size, learned=not fix_prior_weights)
        self.gmm_means = tf.Variable(tf.zeros([num_clusters, latent_dim]), name="gmm_means")
        self.gmm_logvars = tf.Variable(tf.zeros([num_clusters, latent_dim]), name="gmm_logvars")
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
                "entropy_z": tf.reduce_mean(entropy_z), "log_pc": log_pc}

    def embed(self, x, batch=2048):
        means, logvars = [], []
        for start in range(0, len(x), batch):
            mean, logvar = self.encode(tf.convert_to_tensor(x[start:start + batch]))
            means.append(mean.numpy())
            logvars.append(logvar.numpy())
        return np.concatenate(means), np.concatenate(logvars)

    def predict_clusters(self, x, batch=2048):
        """argmax_k q(c = k | x) for every row of `x`, and q itself."""
        mean, logvar = self.embed(x, batch)
        logits = self.cluster_logits(tf.constant(mean), tf.constant(logvar)).numpy()
        probs = tf.nn.softmax(logits, axis=-1).numpy()
        return np.argmax(logits, axis=-1), probs


def _batches(num, batch_size, rng, drop_remainder=True):
    order = rng.permutation(num)
    stop = num - num % batch_size if drop_remainder else num
    for start in range(0, stop, batch_size):
        yield order[start:start + batch_size]


def pretrain_autoencoder(model, x, epochs, batch_size=256, learning_rate=1e-3, seed=0,
                         log=print):
    """Plain autoencoder pretraining: encoder mean -> decoder, Bernoulli loss (per image)."""
    variables = model.encoder_body.trainable_variables + model.decoder.trainable_variables
    optimizer = tf.keras.optimizers.Adam(learning_rate)

    @tf.function
    def step(batch):
        with tf.GradientTape() as tape:
            recon_logits = model.decoder(model.encoder_body(batch))
            loss = tf.reduce_mean(tf.reduce_sum(
                tf.nn.sigmoid_cross_entropy_with_logits(labels=batch, logits=recon_logits), -1))
        optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables, strict=True))
        return loss

    rng = np.random.default_rng(seed)
    history = []
    for epoch in range(epochs):
        start, losses = time.time(), []
        for index in _batches(len(x), batch_size, rng, drop_remainder=False):
            losses.append(float(step(tf.constant(x[index]))))
        history.append(float(np.mean(losses)))
        log(f"pretrain epoch {epoch + 1}/{epochs} recon_bce {history[-1]:.3f} "
            f"({time.time() - start:.1f}s)")
    return history


def init_gmm(model, x, seed=0, n_init=1, init_prior_from_gmm=False):
    """Fits a diagonal GaussianMixture on the encoder means; sets mu_k, sigma2_k (and the learned
    prior weights to the GMM weights if `init_prior_from_gmm`; else they start uniform, as VaDE).

    Returns `(gmm_predictions, gmm_weights)`.
    """
    from sklearn.mixture import GaussianMixture  # pylint: disable=import-outside-toplevel
    mean, _ = model.embed(x)
    gmm = GaussianMixture(model.num_clusters, covariance_type="diag", n_init=n_init,
                          random_state=seed, reg_covar=1e-6)
    predictions = gmm.fit_predict(mean)
    set_gmm(model, gmm.means_, gmm.covariances_, gmm.weights_, init_prior_from_gmm)
    return predictions, gmm.weights_


def set_gmm(model, means, variances, weights, init_prior_from_gmm=False):
    model.gmm_means.assign(np.asarray(means, np.float32))
    model.gmm_logvars.assign(np.log(np.asarray(variances, np.float32)))
    variances = np.asarray(variances, np.float64)
    # q(z|x) starts with variance 0.1 * (mean GMM variance) in every dimension, small against
    # the clusters (a variance of 1 would blur the pretrained embedding's clusters).
    model.encoder_logvar.bias.assign(
        np.full(model.latent_dim, np.log(0.1 * variances.mean()), np.float32))
    model.gmm_init_weights = np.asarray(weights, np.float64).copy()
    if init_prior_from_gmm:
        model.prior.init_from_proportions(model.gmm_init_weights)


def train_vade(model, x, epochs, learning_rate=5e-4, prior_learning_rate=1e-2, lr_decay=1.0,
               tau_init=1.0, tau_final=0.1, seed=0, evaluate=None, log=print):
    """Joint training on the negative ELBO. `evaluate(model) -> dict` runs after every epoch.

    Adam with `learning_rate` for the networks and the GMM, and `prior_learning_rate` for the
    prior's weights (their gradients are O(1/B) per image, so they need a larger step to move
    within a short run). Both rates are multiplied by `lr_decay` after each epoch; tau follows
    `tfp_mvhg.temperature_schedule(step, tau_init, tau_final, epochs * steps_per_epoch)`.
    """
    batch_size = model.batch_size
    if len(x) < batch_size:
        raise ValueError(f"{len(x)} images is fewer than one batch of {batch_size}.")
    steps_per_epoch = len(x) // batch_size
    n_steps = max(epochs * steps_per_epoch, 1)
    lr = tf.Variable(learning_rate, trainable=False, dtype=tf.float32)
    prior_lr = tf.Variable(prior_learning_rate, trainable=False, dtype=tf.float32)
    optimizer = tf.keras.optimizers.Adam(lr)
    prior_optimizer = tf.keras.optimizers.Adam(prior_lr)
    prior_variables = list(model.prior.trainable_variables)
    variables = [v for v in model.joint_variables()
                 if not any(v is p for p in prior_variables)]
    keys = ("loss", "recon", "log_pz", "entropy_c", "entropy_z", "log_pc")

    @tf.function
    def step(batch, global_step, seed_pair):
        temperature = tfp_mvhg.temperature_schedule(global_step, tau_init, tau_final, n_steps)
        with tf.GradientTape() as tape:
            terms = model.elbo_terms(batch, temperature, seed_pair)
        grads = tape.gradient(terms["loss"], variables + prior_variables)
        optimizer.apply_gradients(zip(grads[:len(variables)], variables, strict=True))
        if prior_variables:
            prior_optimizer.apply_gradients(
                zip(grads[len(variables):], prior_variables, strict=True))
        terms["tau"] = temperature
        return terms

    rng = np.random.default_rng(seed + 1000)
    history = []
    global_step = 0
    for epoch in range(epochs):
        start = time.time()
        sums = {key: 0. for key in keys + ("tau",)}
        for index in _batches(len(x), batch_size, rng):
            terms = step(tf.constant(x[index]), tf.constant(global_step, tf.int64),
                         tf.constant([seed, global_step], tf.int64))
            for key in sums:
                sums[key] += float(terms[key])
            global_step += 1
        record = {"epoch": epoch + 1, **{key: value / steps_per_epoch
                                         for key, value in sums.items()}}
        if not np.isfinite(record["loss"]):
            raise FloatingPointError(f"non-finite loss at epoch {epoch + 1}: {record}")
        lr.assign(lr * lr_decay)
        prior_lr.assign(prior_lr * lr_decay)
        if evaluate is not None:
            record.update(evaluate(model))
        record["seconds"] = time.time() - start
        history.append(record)
        extra = " ".join(f"{key} {record[key]:.4f}" for key in ("acc", "nmi", "ari")
                         if key in record)
        log(f"epoch {epoch + 1}/{epochs} loss {record['loss']:.3f} recon {record['recon']:.3f} "
            f"log_pc {record['log_pc']:.3f} tau {record['tau']:.3f} {extra} "
            f"({record['seconds']:.1f}s)")
    return history
