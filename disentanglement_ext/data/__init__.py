# Copyright 2026 The tfp-mvhg authors.
# SPDX-License-Identifier: Apache-2.0
"""Ground-truth data sets of disentanglement_ext (`procedural`: offline mpi3d_toy stand-in)."""
