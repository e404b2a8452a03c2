# Copyright 2026 The tfp-mvhg authors.
# SPDX-License-Identifier: Apache-2.0
"""A small MLP encoder/decoder and a Gaussian reconstruction loss, for vector observations.

disentanglement_lib's `encoder.encoder_fn` / `decoder.decoder_fn` take functions with its
signatures; these are gin configurables with those signatures:

    mlp_encoder(input_tensor [batch, *obs], num_latent, is_training) -> (means, log_vars) [batch, d]
    mlp_decoder(latent_tensor [batch, d], output_shape, is_training) -> [batch, *output_shape]
    gaussian_loss(true [batch, *obs], reconstructed [batch, *obs], activation) -> [batch]

`gaussian_loss` reads the decoder's output as the mean of N(x_hat, sigma^2 I):

    loss = ||x - x_hat||^2 / (2 sigma^2)  (the negative log-likelihood less D log(sigma sqrt(2 pi)))

Gin (`gin_configs/vector.gin`): `encoder.encoder_fn = @mlp_encoder`, `mlp_encoder.hidden_units`,
`decoder.decoder_fn = @mlp_decoder`, `mlp_decoder.hidden_units`,
`reconstruction_loss.loss_fn = @gaussian_loss`, `gaussian_loss.scale`.
"""
import gin.tf
import numpy as np
import tensorflow.compat.v1 as tf


def _check_units(name, hidden_units):
    units = list(hidden_units)
    if any(isinstance(unit, bool) or int(unit) != unit or unit < 1 for unit in units):
        raise ValueError(f"{name}.hidden_units must be positive integers, got {hidden_units!r}.")
    return [int(unit) for unit in units]


@gin.configurable("mlp_encoder", allowlist=["hidden_units"])
def mlp_encoder(input_tensor, num_latent, is_training=True, hidden_units=(256, 256)):
    """Gaussian encoder: flatten, ReLU layers of `hidden_units`, then linear means and log
    variances, each `[batch, num_latent]`."""
    del is_training
    hidden = tf.layers.flatten(input_tensor)
    for index, units in enumerate(_check_units("mlp_encoder", hidden_units)):
        hidden = tf.layers.dense(hidden, units, activation=tf.nn.relu, name=f"e{index + 1}")
    means = tf.layers.dense(hidden, num_latent, activation=None, name="means")
    log_var = tf.layers.dense(hidden, num_latent, activation=None, name="log_var")
    return means, log_var


@gin.configurable("mlp_decoder", allowlist=["hidden_units"])
def mlp_decoder(latent_tensor, output_shape, is_training=True, hidden_units=(256, 256)):
    """Decoder: ReLU layers of `hidden_units`, then a linear layer reshaped to
    `[batch, *output_shape]` (the mean of the observation)."""
    del is_training
    hidden = latent_tensor
    for index, units in enumerate(_check_units("mlp_decoder", hidden_units)):
        hidden = tf.layers.dense(hidden, units, activation=tf.nn.relu, name=f"d{index + 1}")
    output = tf.layers.dense(hidden, int(np.prod(output_shape)), activation=None, name="output")
    return tf.reshape(output, [-1] + list(output_shape))


@gin.configurable("gaussian_loss", allowlist=["scale"])
def gaussian_loss(true_images, reconstructed_images, activation, scale=0.1):
    """||x - x_hat||^2 / (2 scale^2) per example, `[batch]`; the decoder output is the mean
    (`activation`, disentanglement_lib's choice of output squashing for images, is not used)."""
    del activation
    if not scale > 0:
        raise ValueError(f"gaussian_loss.scale must be positive, got {scale!r}.")
    size = int(np.prod(true_images.get_shape().as_list()[1:]))
    difference = tf.reshape(true_images - reconstructed_images, [-1, size])
    return tf.reduce_sum(tf.square(difference), axis=1) / (2. * scale ** 2)
