# Copyright 2026 The tfp-mvhg authors.
# SPDX-License-Identifier: Apache-2.0
"""Smoke test of an installed tfp-mvhg wheel, run outside the repository (`scripts/wheel_smoke.sh`):
the distribution (sample, log_prob), the layer in a Keras model, the shipped gin files and the
console commands."""

import importlib.metadata
import itertools
import os
import subprocess
import sys
import sysconfig

import disentanglement_ext
from disentanglement_ext import configs

assert "tensorflow" not in sys.modules, "importing disentanglement_ext must not import TensorFlow"
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import tfp_mvhg  # noqa: E402

SITE = sysconfig.get_path("purelib")

# The wheel installs exactly these top-level packages (no generic names such as `experiments`).
installed = importlib.metadata.distribution("tfp-mvhg").files
top_level = {path.parts[0] for path in installed
             if path.parts[0] != ".." and not path.parts[0].endswith(".dist-info")}
assert top_level == {"disentanglement_ext", "mvhg_clustering", "tfp_mvhg"}, sorted(top_level)
gin_files = [path for path in installed if path.suffix == ".gin"]
assert gin_files and all(path.parts[:2] == ("disentanglement_ext", "gin_configs")
                         for path in gin_files), gin_files
for module in (tfp_mvhg, disentanglement_ext):
    assert module.__file__.startswith(SITE), (
        f"{module.__name__} not from the wheel: {module.__file__}")
assert tfp_mvhg.__version__ == importlib.metadata.version("tfp-mvhg")

# The distribution: samples on the support, log_prob normalized over the enumerated support.
dist = tfp_mvhg.MultivariateHypergeometric([2., 3., 1.], 3., logits=[0.5, -1., 0.])
samples = dist.sample(500, seed=(1, 2)).numpy()
assert np.all(samples.sum(-1) == 3) and np.all(samples <= [2, 3, 1]) and np.all(samples >= 0)
support = np.array([x for x in itertools.product(range(3), range(4), range(2)) if sum(x) == 3],
                   np.float32)
np.testing.assert_allclose(np.exp(dist.log_prob(support).numpy()).sum(), 1., rtol=1e-5)

# The layer in a Keras model (Keras 3 on this stack); gradients reach the logits' Dense layer.
inputs = tf.keras.Input([4])
counts = tfp_mvhg.MVHGLayer([5, 5, 5], 6, temperature=0.5)(tf.keras.layers.Dense(3)(inputs))
model = tf.keras.Model(inputs, counts)
x = np.random.RandomState(0).normal(size=(8, 4)).astype(np.float32)
with tf.GradientTape() as tape:
    out = model(x)
    loss = tf.reduce_sum(out * tf.constant([1., -1., 2.]))
np.testing.assert_array_equal(out.numpy().sum(-1), 6.)
gradients = tape.gradient(loss, model.trainable_variables)
assert all(g is not None and np.all(np.isfinite(g)) for g in gradients)
assert np.any(gradients[0].numpy() != 0)

# The gin files ship with the package and are found by short name.
assert configs.available() == ["ada.gin", "base.gin", "cpu_small.gin", "hg.gin",
                               "hg_per_dimension.gin", "hg_prior.gin", "images_long.gin",
                               "label.gin",
                               "label_dlib.gin", "label_true.gin", "mpi3d_toy.gin", "paper.gin",
                               "procedural.gin", "vector.gin"], configs.available()
assert configs.find_gin_file("hg").startswith(SITE)

# Console commands: --help works; without disentanglement_lib a run says how to install it.
scripts = os.path.dirname(sys.executable)
for command in ("mvhg_train_weak", "mvhg_sweep", "mvhg_dlib", "mvhg_clustering"):
    result = subprocess.run([os.path.join(scripts, command), "--help"], capture_output=True,
                            text=True, check=True)
    assert "usage" in result.stdout.lower(), (command, result.stdout)
result = subprocess.run([os.path.join(scripts, "mvhg_train_weak"), "--model_dir", "unused",
                         "--gin_config", "base"], capture_output=True, text=True, check=False)
assert result.returncode == 2 and "[weak] stack" in result.stderr, result.stderr
print(f"wheel smoke test passed: tfp-mvhg {tfp_mvhg.__version__}, TF {tf.__version__}, "
      f"Keras {tf.keras.__version__}, from {SITE}")
