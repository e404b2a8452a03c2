# Copyright 2026 The tfp-mvhg authors.
# SPDX-License-Identifier: Apache-2.0
"""A custom training loop (`strategy.run`) with `MVHGLayer` on two replicas, for test_strategies.py.

    python custom_loop.py mirrored OUT.npz   # MirroredStrategy on two logical CPU devices
    python custom_loop.py worker OUT.npz     # one of two MultiWorkerMirroredStrategy workers
                                             # (TF_CONFIG set, one CPU each)

Writes OUT.npz: after `STEPS` SGD steps under the strategy, every local copy of each weight
(`weight_I`), the reduced losses and the counts each local replica drew; the same without a
strategy, each half batch with its replica's seed (`reference_*`); the initial weights; and the
counts each local replica drew with the layer's own seed from identical logits (`own_seed`).
"""

import sys

import numpy as np
import tensorflow as tf

import tfp_mvhg

STEPS, REPLICAS, HALF = 3, 2, 4
GLOBAL_BATCH = REPLICAS * HALF
RNG = np.random.default_rng(0)
X = RNG.normal(size=(STEPS, REPLICAS, HALF, 4)).astype("float32")   # step, replica, row, feature
Y = RNG.normal(size=(STEPS, REPLICAS, HALF)).astype("float32")
SEEDS = np.arange(STEPS * REPLICAS * 2, dtype="int32").reshape(STEPS, REPLICAS, 2)
INITIAL = [RNG.normal(size=(4, 3)).astype("float32"), np.zeros(3, "float32"),
           RNG.normal(size=(3, 1)).astype("float32") / 10, np.zeros(1, "float32")]


class Net:
    """Dense(3) -> MVHGLayer -> Dense(1) with the weights `INITIAL` and an SGD optimizer."""

    def __init__(self):
        self.logits, self.head = tf.keras.layers.Dense(3), tf.keras.layers.Dense(1)
        self.mvhg = tfp_mvhg.MVHGLayer([10, 6, 8], 12, temperature=0.5, seed=0)
        self.head(self.mvhg(self.logits(tf.zeros([1, 4]))))
        self.variables = self.logits.trainable_weights + self.head.trainable_weights
        for variable, value in zip(self.variables, INITIAL, strict=True):
            variable.assign(value)
        self.optimizer = tf.keras.optimizers.SGD(0.1)

    def loss_and_counts(self, x, y, seed):
        """The half batch's share of the global mean squared error, and its counts."""
        counts = self.mvhg(self.logits(x), seed=seed, training=True)
        per_example = tf.square(self.head(counts)[:, 0] - y)
        return tf.nn.compute_average_loss(per_example, global_batch_size=GLOBAL_BATCH), counts

    def apply(self, tape, loss):
        self.optimizer.apply_gradients(
            zip(tape.gradient(loss, self.variables), self.variables, strict=True))


def local_values(strategy, array):
    """Per-replica values: replica r gets `array[r]`."""
    return strategy.experimental_distribute_values_from_function(
        lambda context: tf.constant(array[context.replica_id_in_sync_group]))


def train(strategy):
    """`STEPS` steps under `strategy`: (weights [variable][local copy], reduced losses [step],
    counts [step, local replica, row, class])."""
    with strategy.scope():
        net = Net()

    def replica_step(x, y, seed):
        with tf.GradientTape() as tape:
            loss, counts = net.loss_and_counts(x, y, seed)
        net.apply(tape, loss)
        return loss, counts

    @tf.function
    def step(x, y, seeds):
        loss, counts = strategy.run(replica_step, args=(x, y, seeds))
        return strategy.reduce(tf.distribute.ReduceOp.SUM, loss, axis=None), counts

    losses, counts = [], []
    for i in range(STEPS):
        loss, replica_counts = step(*(local_values(strategy, array[i]) for array in (X, Y, SEEDS)))
        losses.append(float(loss))
        counts.append([c.numpy() for c in strategy.experimental_local_results(replica_counts)])
    weights = [[copy.numpy() for copy in strategy.experimental_local_results(
        variable if isinstance(variable, tf.Variable) else variable.value)]  # Keras 3 wraps it
               for variable in net.variables]
    return weights, np.array(losses), np.array(counts)


def reference():
    """The same steps without a strategy: each half batch with its replica's seed."""
    net = Net()
    losses, counts = [], []
    for i in range(STEPS):
        with tf.GradientTape() as tape:
            halves = [net.loss_and_counts(X[i, r], Y[i, r], SEEDS[i, r]) for r in range(REPLICAS)]
            loss = tf.add_n([loss for loss, _ in halves])
        net.apply(tape, loss)
        losses.append(float(loss))
        counts.append([c.numpy() for _, c in halves])
    return [variable.numpy() for variable in net.variables], np.array(losses), np.array(counts)


def own_seed_counts(strategy):
    """The counts each replica draws with the layer's own seed from the same logits."""
    with strategy.scope():
        layer = tfp_mvhg.MVHGLayer([10, 6, 8], 12, seed=0)

    @tf.function
    def draw():
        return strategy.run(layer, args=(tf.zeros([64, 3]),), kwargs=dict(training=True))
    counts = draw()
    return np.array([c.numpy() for c in strategy.experimental_local_results(counts)])


def main(mode, out):
    if mode == "mirrored":
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration()] * REPLICAS)
        strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    else:
        strategy = tf.distribute.MultiWorkerMirroredStrategy()
    assert strategy.num_replicas_in_sync == REPLICAS, strategy.num_replicas_in_sync
    weights, losses, counts = train(strategy)
    own_seed = own_seed_counts(strategy)
    reference_weights, reference_losses, reference_counts = reference()
    np.savez(out, losses=losses, counts=counts, own_seed=own_seed,
             reference_losses=reference_losses, reference_counts=reference_counts,
             **{f"weight_{i}": w for i, w in enumerate(weights)},
             **{f"reference_weight_{i}": w for i, w in enumerate(reference_weights)},
             **{f"initial_weight_{i}": w for i, w in enumerate(INITIAL)})


if __name__ == "__main__":
    main(*sys.argv[1:])
