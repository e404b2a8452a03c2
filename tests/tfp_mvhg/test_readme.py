# Copyright 2026 The tfp-mvhg authors.
# SPDX-License-Identifier: Apache-2.0
"""The README's usage examples run as written (the `tf.distribute` example, with its checks, is
in examples/tutorial.ipynb, which tests/examples/test_notebooks.py executes)."""

import os
import re

import numpy as np

README = os.path.join(os.path.dirname(__file__), "..", "..", "README.md")


def readme_blocks():
    with open(README, encoding="utf-8") as readme:
        return re.findall(r"```python\n(.*?)```", readme.read(), flags=re.S)


def run_block(block):
    namespace = {}
    exec(compile(block, "README.md", "exec"), namespace)  # pylint: disable=exec-used
    return namespace


def test_readme_python_example_runs():
    namespace = run_block(readme_blocks()[0])
    assert abs(float(namespace["mean"][0]) - 36.8689) < 1e-3
    assert namespace["grad"].shape == (3,)


def test_readme_relaxed_example_runs():
    namespace = run_block(readme_blocks()[1])
    counts, soft = namespace["counts"].numpy(), namespace["soft"].numpy()
    assert counts.shape == (1000, 3) and np.all(counts.sum(-1) == 180)
    assert abs(soft.sum() - 180.) < 1e-3
    assert np.all(np.isfinite(namespace["grad"].numpy()))
    assert namespace["details"].one_hots.shape == (3, 181)
