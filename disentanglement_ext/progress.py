# Copyright 2026 The tfp-mvhg authors.
# SPDX-License-Identifier: Apache-2.0
"""A one-line-per-N-steps training progress log for TF 1 estimators."""

import time

import tensorflow.compat.v1 as tf

# Logged tensor name -> label on the progress line, in this order; missing names are left out.
LABELS = {"loss": "loss", "reconstruction_loss": "recon", "kl_loss": "KL", "k_hat": "k_hat",
          "hg_temperature": "tau"}


def format_duration(seconds):
    """`95` -> `"1m35s"`, `4000` -> `"1h06m"`."""
    seconds = int(round(seconds))
    if seconds >= 3600:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    return f"{seconds // 60}m{seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"


class ProgressHook(tf.train.SessionRunHook):
    """Prints `[train_weak] step S/T  loss ...  recon ...  KL ...  k_hat ...  tau ...  R steps/s ETA
    ...` every `every_n_steps` steps (and at the first step), from scalar tensors of the training
    graph.

    Args:
      tensors: dict name -> scalar tensor (`LABELS` says which are shown).
      every_n_steps: steps between lines.
      last_step: the run's final step, for the ETA (None: no ETA).
      write: where the lines go (default `print`).
    """

    def __init__(self, tensors, every_n_steps, last_step=None, write=None):
        self._tensors = {name: tensors[name] for name in LABELS if name in tensors}
        self._every_n_steps, self._last_step = int(every_n_steps), last_step
        self._write = write or (lambda line: print(line, flush=True))
        self._global_step = self._previous = None

    def begin(self):
        self._global_step = tf.train.get_global_step()

    def before_run(self, run_context):
        return tf.train.SessionRunArgs(dict(self._tensors, step=self._global_step))

    def after_run(self, run_context, run_values):
        values = run_values.results
        # The global step is fetched beside the train op, so it is usually read before this run's
        # update and occasionally after it: the same step can come twice, and is shown once.
        step = int(values["step"]) + 1
        now = time.time()
        if self._previous is not None and (step <= self._previous[0] or (
                step % self._every_n_steps and step != self._last_step)):
            return
        line = f"[train_weak] step {step}" + (f"/{self._last_step}" if self._last_step else "")
        line += "".join(f"  {LABELS[name]} {float(values[name]):.4g}" for name in self._tensors)
        if self._previous is not None:
            rate = (step - self._previous[0]) / max(now - self._previous[1], 1e-9)
            line += f"  {rate:.1f} steps/s"
            if self._last_step:
                line += f"  ETA {format_duration(max(self._last_step - step, 0) / rate)}"
        self._previous = (step, now)
        self._write(line)
