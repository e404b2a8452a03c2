# Copyright 2026 The tfp-mvhg authors.
# SPDX-License-Identifier: Apache-2.0
"""A custom training loop with MVHGLayer (`strategy.run`, custom_loop.py) under MirroredStrategy on
two logical CPU devices and under MultiWorkerMirroredStrategy with two worker processes on
localhost, each run in subprocesses so that neither the devices nor TF_CONFIG leak; both stacks."""

import json
import os
import socket
import subprocess
import sys
import time

import numpy as np

SCRIPT = os.path.join(os.path.dirname(__file__), "custom_loop.py")
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# The script's own folder comes first on its path: the repository's tfp_mvhg must come next.
ENV = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3",
           PYTHONPATH=os.pathsep.join(filter(None, [REPO, os.environ.get("PYTHONPATH")])))


def check_against_reference(result, copies):
    """The strategy's steps equal the steps without it (reduced losses, each replica's counts,
    weights), the weights moved, and the replicas drew different counts with the layer's own seed
    (`own_seed`: the counts of each of the `copies` results)."""
    np.testing.assert_allclose(result["losses"], result["reference_losses"], rtol=1e-5)
    assert np.all(np.isfinite(result["losses"]))
    for i in range(4):
        weight = result[f"weight_{i}"]  # every local copy of the mirrored weight
        np.testing.assert_allclose(
            weight, np.broadcast_to(result[f"reference_weight_{i}"], weight.shape),
            rtol=1e-5, atol=1e-6)
    assert not np.allclose(result["weight_0"], result["initial_weight_0"])
    own_seed = [copy["own_seed"] for copy in copies]
    assert np.all(np.concatenate(own_seed).sum(-1) == 12)
    assert not np.array_equal(*np.concatenate(own_seed)), "replicas drew the same noise"


def test_custom_loop_under_mirrored_strategy_matches_the_loop_without_it(tmp_path):
    """Gradients summed over the replicas, losses reduced with SUM, each replica's counts those of
    its half batch and seed; with the layer's own seed, the two replicas draw different noise."""
    out = str(tmp_path / "mirrored.npz")
    result = subprocess.run([sys.executable, SCRIPT, "mirrored", out], capture_output=True,
                            text=True, timeout=300, env=ENV, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    result = np.load(out)
    np.testing.assert_array_equal(result["counts"], result["reference_counts"])
    check_against_reference(result, [result])


def free_ports(count):
    """`count` TCP ports on localhost that were free a moment ago."""
    sockets = [socket.socket() for _ in range(count)]
    for sock in sockets:
        sock.bind(("localhost", 0))
    ports = [sock.getsockname()[1] for sock in sockets]
    for sock in sockets:
        sock.close()
    return ports


def test_custom_loop_under_multi_worker_mirrored_strategy_with_two_workers_on_localhost(tmp_path):
    """Two processes, one CPU replica each, joined by TF_CONFIG: both end with the weights of the
    loop without a strategy (gradients all-reduced over gRPC), each drew its half batch's counts,
    and the workers drew different noise with the layer's own seed."""
    cluster = {"worker": [f"localhost:{port}" for port in free_ports(2)]}
    workers = []
    for index in range(2):
        env = dict(ENV, CUDA_VISIBLE_DEVICES="", TF_CONFIG=json.dumps(
            {"cluster": cluster, "task": {"type": "worker", "index": index}}))
        with open(tmp_path / f"worker{index}.log", "w", encoding="utf-8") as log:
            workers.append(subprocess.Popen(
                [sys.executable, SCRIPT, "worker", str(tmp_path / f"worker{index}.npz")],
                env=env, stdout=log, stderr=subprocess.STDOUT))
    try:  # until both end, one fails (the other would wait for it) or 300 s pass
        deadline = time.monotonic() + 300
        while (any(worker.poll() is None for worker in workers)
               and not any(worker.poll() for worker in workers) and time.monotonic() < deadline):
            time.sleep(0.2)
    finally:
        for worker in workers:
            worker.kill()
    for index, worker in enumerate(workers):
        assert worker.wait() == 0, (tmp_path / f"worker{index}.log").read_text()[-3000:]
    results = [np.load(tmp_path / f"worker{index}.npz") for index in range(2)]
    for index, result in enumerate(results):
        np.testing.assert_array_equal(result["counts"][:, 0], result["reference_counts"][:, index])
        check_against_reference(result, results)
    for i in range(4):
        np.testing.assert_array_equal(results[0][f"weight_{i}"], results[1][f"weight_{i}"])
