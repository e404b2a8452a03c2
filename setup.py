# Copyright 2026 The tfp-mvhg authors.
# SPDX-License-Identifier: Apache-2.0
"""Build script; the package's metadata, dependencies and data files are in pyproject.toml."""

from setuptools import setup

setup()
