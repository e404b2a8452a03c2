# Copyright 2026 The tfp-mvhg authors.
# SPDX-License-Identifier: Apache-2.0
"""Keras integration: temperature schedule and callback, MVHGLayer, DistributionLambda variant,
MirroredStrategy. Runs on tf.keras (TF 2.15) and Keras 3 (TF 2.21); all deterministic."""

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import tensorflow as tf

import tfp_mvhg

keras = tf.keras


def test_temperature_schedule_follows_the_papers_exponential_decay():
    steps = np.array([0, 25000, 50000, 80000])
    taus = tfp_mvhg.temperature_schedule(steps, 10., 0.01, 50000).numpy()
    rate = (np.log(10.) - np.log(0.01)) / 50000
    np.testing.assert_allclose(taus[:3], 10. * np.exp(-rate * steps[:3]), rtol=1e-5)
    np.testing.assert_allclose(taus[1], np.sqrt(10. * 0.01), rtol=1e-5)  # geometric midpoint
    np.testing.assert_allclose(taus[3], 0.01, rtol=1e-5)                  # held after n_steps


@pytest.mark.parametrize("bad", [dict(tau_init=0.), dict(tau_final=-1.), dict(n_steps=0),
                                 dict(tau_init=float("nan"))])
def test_temperature_schedule_rejects_bad_settings(bad):
    settings = dict(tau_init=10., tau_final=0.01, n_steps=100)
    settings.update(bad)
    name = next(iter(bad))
    with pytest.raises(ValueError, match=f"`{name}`"):
        tfp_mvhg.temperature_schedule(0, **settings)
    with pytest.raises(ValueError, match=f"`{name}`"):
        tfp_mvhg.TemperatureAnnealing(tf.Variable(1.), **settings)


def small_model(**layer_kwargs):
    inputs = keras.Input((4,))
    logits = keras.layers.Dense(3, name="logits")(inputs)
    counts = tfp_mvhg.MVHGLayer([10, 6, 8], 12, name="mvhg", **layer_kwargs)(logits)
    outputs = keras.layers.Dense(1)(counts)
    return keras.Model(inputs, outputs)


def data(rows=64):
    rng = np.random.default_rng(0)
    inputs = rng.normal(size=(rows, 4)).astype("float32")
    return inputs, rng.normal(size=(rows, 1)).astype("float32")


def test_layer_trains_inside_a_model_with_annealing():
    model = small_model(temperature=2.0, seed=1)
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss="mse")
    x, y = data()
    kernel_before = model.get_layer("logits").kernel.numpy().copy()
    annealing = tfp_mvhg.TemperatureAnnealing(model.get_layer("mvhg"), 2.0, 0.1, 4)
    model.fit(x, y, epochs=2, batch_size=16, verbose=0, callbacks=[annealing])
    assert annealing.step == 7  # the optimizer step of the last batch
    np.testing.assert_allclose(float(model.get_layer("mvhg").temperature.numpy()),
                               tfp_mvhg.temperature_schedule(7, 2.0, 0.1, 4).numpy(), rtol=1e-6)
    # the straight-through gradient reaches the Dense layer that produces the logits
    assert not np.allclose(model.get_layer("logits").kernel.numpy(), kernel_before)


def test_annealing_follows_the_optimizer_so_a_resumed_fit_continues_the_schedule(tmp_path):
    model = small_model(temperature=2.0, seed=1)
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss="mse")
    x, y = data()
    model.fit(x, y, epochs=1, batch_size=16, verbose=0,
              callbacks=[tfp_mvhg.TemperatureAnnealing(model.get_layer("mvhg"), 2.0, 0.1, 10)])
    path = str(tmp_path / "model.keras")
    model.save(path)
    resumed = keras.models.load_model(path)
    annealing = tfp_mvhg.TemperatureAnnealing(resumed.get_layer("mvhg"), 2.0, 0.1, 10)
    resumed.fit(x, y, epochs=1, batch_size=16, verbose=0, callbacks=[annealing])
    assert annealing.step == 7  # 4 steps before the save, then 4 more
    np.testing.assert_allclose(float(resumed.get_layer("mvhg").temperature.numpy()),
                               tfp_mvhg.temperature_schedule(7, 2.0, 0.1, 10).numpy(), rtol=1e-6)


def test_annealing_needs_a_compiled_model():
    annealing = tfp_mvhg.TemperatureAnnealing(tf.Variable(1.), 2.0, 0.1, 10)
    annealing.set_model(keras.Sequential([keras.layers.Dense(1)]))
    with pytest.raises(ValueError, match="optimizer"):
        annealing.on_train_batch_begin(0)


def test_layer_at_inference_returns_the_documented_output():
    logits = tf.constant([[0., 1., 2.], [1., 1., -1.]])
    exact = tfp_mvhg.MultivariateHypergeometric([10., 6., 8.], 12., logits=logits)
    sample = tfp_mvhg.MVHGLayer([10, 6, 8], 12)
    first = sample(logits, training=False, seed=tf.constant([1, 2]))
    assert not np.array_equal(first, sample(logits, training=False, seed=tf.constant([3, 4])))
    mode = tfp_mvhg.MVHGLayer([10, 6, 8], 12, inference="mode", return_one_hots=True)
    counts, one_hots = mode(logits)                       # training=None: inference
    np.testing.assert_array_equal(counts, exact.mode())
    np.testing.assert_array_equal(one_hots.numpy().argmax(-1), counts.numpy())
    drawn, _ = mode(logits, training=True, seed=tf.constant([1, 2]))
    np.testing.assert_array_equal(drawn.numpy().sum(-1), 12)
    mean = tfp_mvhg.MVHGLayer([10, 6, 8], 12, inference="mean")
    np.testing.assert_allclose(mean(logits, training=False), exact.mean(), rtol=1e-6)
    with pytest.raises(ValueError, match="`inference`"):
        tfp_mvhg.MVHGLayer([10, 6, 8], 12, inference="median")
    with pytest.raises(ValueError, match="method='exact'"):
        tfp_mvhg.MVHGLayer([10, 6, 8], 12, inference="mode", method="merged")


def test_layer_computes_in_float32_under_mixed_precision():
    """m = [300] * 3, n = 301: counts above 256, which bfloat16 cannot hold exactly."""
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        inputs = keras.Input((4,))
        logits = keras.layers.Dense(3)(inputs)
        counts = tfp_mvhg.MVHGLayer([300] * 3, 301, seed=2)(logits)
        model = keras.Model(inputs, keras.layers.Dense(1)(counts))
        x, y = data(16)
        model.compile(optimizer="adam", loss="mse")
        model.fit(x, y, epochs=1, batch_size=8, verbose=0)
        values = keras.Model(inputs, counts)(x)
    finally:
        keras.mixed_precision.set_global_policy("float32")
    assert values.dtype == tf.float32
    values = values.numpy()
    np.testing.assert_array_equal(values.sum(-1), 301)
    np.testing.assert_array_equal(values, np.round(values))


def test_layer_outputs_counts_and_one_hots():
    layer = tfp_mvhg.MVHGLayer([10, 6, 8], 12, temperature=0.5, return_one_hots=True)
    logits = tf.Variable(np.random.default_rng(1).normal(size=(5, 3)).astype("float32"))
    with tf.GradientTape() as tape:
        counts, one_hots = layer(logits, seed=tf.constant([1, 2]))
        loss = tf.reduce_sum(counts * tf.constant([1., -1., 2.]))
    assert counts.shape == (5, 3) and one_hots.shape == (5, 3, 11)
    np.testing.assert_array_equal(counts.numpy().sum(-1), 12)
    np.testing.assert_array_equal(one_hots.numpy().argmax(-1), counts.numpy())
    gradient = tape.gradient(loss, logits).numpy()
    assert np.all(np.isfinite(gradient)) and np.any(gradient != 0)
    np.testing.assert_array_equal(layer(logits, seed=tf.constant([1, 2]))[0], counts)


def test_layer_saves_and_reloads(tmp_path):
    model = small_model(temperature=0.7, method="merged", seed=3, table_dtype="float32")
    model.compile(optimizer="adam", loss="mse")
    x, y = data(16)
    model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    model.get_layer("mvhg").temperature.assign(0.25)
    path = str(tmp_path / "model.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    layer, loaded_layer = model.get_layer("mvhg"), loaded.get_layer("mvhg")
    assert isinstance(loaded_layer, tfp_mvhg.MVHGLayer)
    assert loaded_layer.get_config() == layer.get_config()
    assert loaded_layer.table_dtype == "float32"
    assert float(loaded_layer.temperature.numpy()) == 0.25
    logits = model.get_layer("logits")(x)
    np.testing.assert_array_equal(loaded_layer(logits, seed=tf.constant([4, 5])),
                                  layer(logits, seed=tf.constant([4, 5])))


def test_layer_rejects_bad_arguments():
    with pytest.raises(ValueError, match="`num_per_class`"):
        tfp_mvhg.MVHGLayer([3, -1], 2)
    with pytest.raises(ValueError, match="`total_count`"):
        tfp_mvhg.MVHGLayer([3, 1], 5)
    with pytest.raises(ValueError, match="`method`"):
        tfp_mvhg.MVHGLayer([3, 1], 2, method="fast")
    with pytest.raises(ValueError, match="`temperature`"):
        tfp_mvhg.MVHGLayer([3, 1], 2, temperature=0.)
    with pytest.raises(ValueError, match="`table_dtype`"):
        tfp_mvhg.MVHGLayer([3, 1], 2, table_dtype="bfloat16")
    with pytest.raises(ValueError, match="`num_per_class` has 2"):
        tfp_mvhg.MVHGLayer([3, 1], 2)(tf.zeros([4, 3]))


def tfp_layers_keras():
    """The Keras that tfp.layers builds on: tf.keras with Keras 2, tf_keras with Keras 3."""
    version = getattr(keras, "version", None)  # a function on Keras 3 only
    if version is not None and version().startswith("3."):
        return pytest.importorskip("tf_keras")
    return keras


def test_distribution_lambda_variant():
    tfk = tfp_layers_keras()
    model = tfk.Sequential([
        tfk.layers.Dense(3, input_shape=(4,)),
        tfp_mvhg.relaxed_mvhg_distribution_lambda([10, 6, 8], 12, 0.5)])
    x, _ = data(5)
    dist = model(x)
    # tfp.layers wraps the distribution in a tensor-coercible shell
    assert isinstance(dist.tensor_distribution, tfp_mvhg.RelaxedMultivariateHypergeometric)
    assert dist.batch_shape == [5]
    counts = tf.convert_to_tensor(dist).numpy()
    np.testing.assert_array_equal(counts.sum(-1), 12)
    assert np.all(np.isfinite(dist.log_prob(counts).numpy()))


MIRRORED_SCRIPT = textwrap.dedent("""
    import numpy as np, tensorflow as tf, tfp_mvhg
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    assert strategy.num_replicas_in_sync == 2
    with strategy.scope():
        inputs = tf.keras.Input((4,))
        logits = tf.keras.layers.Dense(3)(inputs)
        layer = tfp_mvhg.MVHGLayer([10, 6, 8], 12, temperature=0.5, seed=0)
        counts = layer(logits)
        model = tf.keras.Model(inputs, tf.keras.layers.Dense(1)(counts))
        model.compile(optimizer="adam", loss="mse")
    x = np.random.default_rng(0).normal(size=(32, 4)).astype("float32")
    history = model.fit(x, x[:, :1], batch_size=8, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][-1])
    counts = tf.keras.Model(inputs, counts).predict(x, batch_size=8, verbose=0)
    assert np.all(counts.sum(-1) == 12)

    # a per-replica step compiled with XLA: relaxed counts and their gradient on each device
    # (the distribution itself: XLA cannot read a mirrored variable such as the layer's
    # temperature from another device, see the XLA known issues)
    @tf.function(jit_compile=True)
    def replica_step(logits):
        with tf.GradientTape() as tape:
            tape.watch(logits)
            counts = tfp_mvhg.RelaxedMultivariateHypergeometric(
                [10., 6., 8.], 12., 0.5, logits=logits).sample(seed=tf.constant([1, 2]))
            loss = tf.reduce_sum(counts * tf.constant([1., -1., 2.]))
        return counts, tape.gradient(loss, logits)

    logits = tf.constant(x[:8, :3])
    counts, gradient = strategy.run(replica_step, args=(logits,))
    for replica_counts, replica_gradient in zip(strategy.experimental_local_results(counts),
                                                strategy.experimental_local_results(gradient)):
        assert np.all(replica_counts.numpy().sum(-1) == 12)
        assert np.all(np.isfinite(replica_gradient.numpy()))
    print("MIRRORED OK")
""")


def test_layer_under_mirrored_strategy_on_two_cpu_devices():
    """Keras fit (not XLA-compiled: XLA cannot read mirrored variables across devices, for any
    layer) and an XLA-compiled per-replica sampling step."""
    result = subprocess.run([sys.executable, "-c", MIRRORED_SCRIPT], capture_output=True,
                            text=True, timeout=600,
                            env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"), check=False)
    assert "MIRRORED OK" in result.stdout, result.stderr[-3000:]


ANNEALING_MIRRORED_SCRIPT = textwrap.dedent("""
    import numpy as np, tensorflow as tf, tfp_mvhg
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    assert strategy.num_replicas_in_sync == 2
    with strategy.scope():
        inputs = tf.keras.Input((4,))
        layer = tfp_mvhg.MVHGLayer([10, 6, 8], 12, temperature=2.0, seed=0)
        counts = layer(tf.keras.layers.Dense(3)(inputs))
        model = tf.keras.Model(inputs, tf.keras.layers.Dense(1)(counts))
        model.compile(optimizer="adam", loss="mse")
    annealing = tfp_mvhg.TemperatureAnnealing(layer, 2.0, 0.1, 4)
    seen = []
    record = tf.keras.callbacks.LambdaCallback(on_train_batch_end=lambda batch, logs: seen.append(
        [float(t.numpy()) for t in strategy.experimental_local_results(layer.temperature)]))
    x = np.random.default_rng(0).normal(size=(32, 4)).astype("float32")
    model.fit(x, x[:, :1], batch_size=8, epochs=2, verbose=0, callbacks=[annealing, record])
    assert annealing.step == 7, annealing.step  # 4 steps per epoch
    expected = tfp_mvhg.temperature_schedule(np.arange(8), 2.0, 0.1, 4).numpy()
    # every local copy of the temperature (one per replica with tf.keras 2; Keras 3 keeps one)
    assert len(seen) == 8 and all(len(copies) in (1, 2) for copies in seen), seen
    for copies, value in zip(seen, expected):
        np.testing.assert_allclose(copies, value, rtol=1e-6)
    assert max(seen[-1]) < 0.11  # annealed from 2.0
    print("ANNEALING OK")
""")


def test_annealing_under_mirrored_strategy_on_two_cpu_devices():
    """The optimizer's step counter is a mirrored variable there (it could not be read with
    numpy); the temperature is set on both replicas before every batch."""
    result = subprocess.run([sys.executable, "-c", ANNEALING_MIRRORED_SCRIPT],
                            capture_output=True, text=True, timeout=600,
                            env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"), check=False)
    assert "ANNEALING OK" in result.stdout, result.stderr[-3000:]
