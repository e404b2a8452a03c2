"""A custom training loop with MVHGLayer (`strategy.run`, custom_loop.py) under MirroredStrategy on
two logical CPU devices, in a subprocess so that the devices do not leak; both stacks."""

import os
import subprocess
import sys

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

