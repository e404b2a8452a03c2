# Copyright 2026 The tfp-mvhg authors.
# SPDX-License-Identifier: Apache-2.0
"""Shared pytest set-up: quiet TensorFlow logs."""
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
