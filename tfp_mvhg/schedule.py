# Copyright 2026 The tfp-mvhg authors.
# SPDX-License-Identifier: Apache-2.0
"""Exponential temperature annealing for the relaxed sampler (paper eq. 52-53)."""

import math
import numbers

import tensorflow as tf

__all__ = ["temperature_schedule", "TemperatureAnnealing"]


def _check_schedule(tau_init, tau_final, n_steps):
    for name, value in (("tau_init", tau_init), ("tau_final", tau_final), ("n_steps", n_steps)):
        if isinstance(value, numbers.Number) and not (math.isfinite(value) and value > 0):
            raise ValueError(f"`{name}` must be a finite positive number, got {value!r}.")


def temperature_schedule(step, tau_init, tau_final, n_steps):
    """`tau_t = tau_init * exp(-r t)`, `r = (log tau_init - log tau_final) / n_steps`.

    The temperature reaches `tau_final` at `t = n_steps` and stays there (t is clipped to
    `[0, n_steps]`). Paper values: `tau_init = 10`, `tau_final = 0.01`, `n_steps = 50000`.

    Args:
      step: scalar or tensor of training steps t.
      tau_init, tau_final: positive temperatures at t = 0 and t >= n_steps.
      n_steps: positive number of annealing steps.

    Returns:
      float32 tensor of the shape of `step`.
    """
    _check_schedule(tau_init, tau_final, n_steps)
    step = tf.cast(step, tf.float32)
    n_steps = tf.cast(n_steps, tf.float32)
    log_init = tf.math.log(tf.cast(tau_init, tf.float32))
    log_final = tf.math.log(tf.cast(tau_final, tf.float32))
    progress = tf.clip_by_value(step, 0., n_steps) / n_steps
    return tf.exp(log_init + (log_final - log_init) * progress)


class TemperatureAnnealing(tf.keras.callbacks.Callback):
    """Keras callback: before each training batch, sets a temperature variable to
    `temperature_schedule(t, ...)` with `t = model.optimizer.iterations`.

    The schedule follows the optimizer's step counter, not a counter of its own, so a resumed
    `fit` (a reloaded model with its optimizer state, or a second `fit` call) continues the
    schedule where it stopped. Under a `tf.distribute` strategy (e.g. `MirroredStrategy`), the
    temperature is set on every replica.

    Args:
      temperature: a scalar variable (e.g. `MVHGLayer.temperature`) or an object with a
        `temperature` variable attribute.
      tau_init, tau_final, n_steps: the schedule.

    Attributes:
      step: the optimizer step whose temperature was set last (None before training).
    """

    def __init__(self, temperature, tau_init, tau_final, n_steps):
        super().__init__()
        _check_schedule(tau_init, tau_final, n_steps)
        self._variable = getattr(temperature, "temperature", temperature)
        if not hasattr(self._variable, "assign"):
            raise ValueError("`temperature` must be a variable or have a `temperature` variable.")
        self.tau_init, self.tau_final, self.n_steps = tau_init, tau_final, n_steps
        self.step = None

    def on_train_batch_begin(self, batch, logs=None):
        iterations = getattr(getattr(self.model, "optimizer", None), "iterations", None)
        if iterations is None:
            raise ValueError("TemperatureAnnealing needs a model compiled with an optimizer "
                             "(it follows `model.optimizer.iterations`).")
        self.step = int(tf.convert_to_tensor(iterations))  # numpy cannot read a mirrored one
        self._variable.assign(
            temperature_schedule(self.step, self.tau_init, self.tau_final, self.n_steps))
