# Copyright 2026 The tfp-mvhg authors.
# SPDX-License-Identifier: Apache-2.0
"""Tests of the scripts in experiments/. The HGVAE ones need disentanglement_lib (the `.venv`
stack) and are skipped elsewhere; where it is installed, its shims are installed here."""

import importlib.util
import os
import sys

import disentanglement_ext

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                "experiments"))

collect_ignore_glob = []
if any(importlib.util.find_spec(name) is None for name in ("disentanglement_lib", "gin")):
    collect_ignore_glob = ["test_hgvae_*.py"]
else:
    disentanglement_ext.install_compat()
