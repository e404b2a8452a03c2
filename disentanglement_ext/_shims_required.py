# Copyright 2026 The tfp-mvhg authors.
# SPDX-License-Identifier: Apache-2.0
"""Imported before disentanglement_lib by the modules that use it: an ImportError that names
`disentanglement_ext.install_compat()` unless it has run (instead of gin's `blacklist`
TypeError)."""

from disentanglement_ext import compat

compat.require()
