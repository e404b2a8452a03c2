# Copyright 2026 The tfp-mvhg authors.
# SPDX-License-Identifier: Apache-2.0
"""HGVAE under a distribution strategy through the estimator's own mechanism (`model.distribution`,
`model.devices`): a tiny run on two logical CPU devices (in a subprocess, so the devices do not
leak), and the errors for settings a run cannot start with."""
import os
import subprocess
import sys
import textwrap

import pytest

from disentanglement_ext import configs
from disentanglement_ext import weak_training

CONFIGS = ["base", "hg", "vector", "hg_per_dimension"]
TINY = ["model.training_steps = 20", "model.batch_size = 16", "model.eval_steps = 1",
        "evaluate_weak.num_train = 200", "evaluate_weak.num_test = 100", "model.num_shared = 3",
        "dlib_metrics.metrics = []", "hypergeometric_aggregation.stochastic_sort = True"]
MIRRORED = ['model.distribution = "mirrored"', 'model.devices = ["/cpu:0", "/cpu:1"]']

SCRIPT = textwrap.dedent("""
    import sys
    import tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    import disentanglement_ext
    disentanglement_ext.install_compat()
    from disentanglement_ext import group_vae, train_weak, weak_training

    bad_dir, model_dir, *args = sys.argv[1:]
    try:  # 15 pairs cannot be split over two replicas
        train_weak.main(["--model_dir", bad_dir] + args
                        + ["--gin_bindings", "model.batch_size = 15"])
    except SystemExit as error:
        print("bad batch size exit", error.code)
    train_weak.main(["--model_dir", model_dir] + args)

    # the stochastic sort's seed differs between the replicas
    strategy = weak_training.make_strategy("mirrored", ["/cpu:0", "/cpu:1"], 2)
    with tf.compat.v1.Graph().as_default(), strategy.scope():
        seeds = strategy.extended.call_for_each_replica(
            group_vae.replica_seed, args=(tf.constant([5, 6], tf.int64),))
        with tf.compat.v1.Session() as session:
            print("replica seeds", [s.tolist() for s in session.run(
                strategy.experimental_local_results(seeds))])
""")


def test_hgvae_trains_under_mirrored_strategy_on_two_cpu_devices(tmp_path):
    """The run completes with the training graph replicated on both devices (replica 1's ops on
    CPU:1) and its checkpoint at step 20; a batch size the replicas cannot share is refused; each
    replica folds its id into the stochastic sort's seed."""
    model_dir = tmp_path / "run"
    args = [arg for name in CONFIGS for arg in ("--gin_config", name)]
    args += [arg for binding in TINY + MIRRORED for arg in ("--gin_bindings", binding)]
    result = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path / "bad"), str(model_dir)]
                            + args, capture_output=True, text=True, timeout=600, check=False,
                            env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
    assert result.returncode == 0, result.stderr[-3000:]
    assert "bad batch size exit 2" in result.stdout
    assert ("model.batch_size = 15 cannot be split evenly over the 2 replicas of "
            "model.distribution = 'mirrored'") in result.stderr
    assert "[train_weak] done in" in result.stdout, result.stdout[-3000:]
    assert weak_training.checkpoint_step(str(model_dir / "tf_checkpoint")) == 20
    graph = (model_dir / "tf_checkpoint" / "graph.pbtxt").read_text(encoding="utf-8")
    assert 'name: "replica_1/' in graph and 'device: "/replica:0/task:0/device:CPU:1"' in graph
    assert os.path.isfile(model_dir / "evaluation.json")
    seeds = eval(result.stdout.split("replica seeds", 1)[1].strip())  # pylint: disable=eval-used
    assert len(seeds) == 2 and seeds[0] != seeds[1], seeds


@pytest.mark.parametrize("bindings, message", [
    (['model.distribution = "nccl"'],
     r"model.distribution must be one of \(None, 'mirrored'\), got 'nccl'"),
    (['model.devices = ["/cpu:0"]'], r'model.devices needs model.distribution = "mirrored"'),
    (['model.distribution = "mirrored"', 'model.devices = "/cpu:0"'],
     r"model.devices must be a non-empty list of device names"),
    (['model.distribution = "mirrored"', 'model.devices = ["/gpu:7"]'],
     r"model.devices = \['/gpu:7'\]: this machine has no .*device:GPU:7 \(it has .*CPU:0")],
    ids=["unknown_distribution", "devices_alone", "devices_not_a_list", "unknown_device"])
def test_bad_distribution_settings_are_refused_naming_the_gin_parameter(tmp_path, bindings,
                                                                          message):
    with pytest.raises(configs.ConfigError, match=message):
        weak_training.train_with_gin(str(tmp_path / "run"), False, CONFIGS, TINY + bindings)
    assert not os.path.exists(tmp_path / "run" / weak_training.CONFIG_FILE)
