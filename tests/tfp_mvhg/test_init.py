# Copyright 2026 The tfp-mvhg authors.
# SPDX-License-Identifier: Apache-2.0
"""`tfp_mvhg/__init__.py`: the public names, each defined in a public module."""

import tensorflow_probability as tfp

import tfp_mvhg
from tfp_mvhg.bijectors import PaddedExp

PUBLIC = {"ExpRelaxedMultivariateHypergeometric", "FisherNoncentralHypergeometric",
          "MultivariateHypergeometric", "MVHGLayer", "RelaxedMultivariateHypergeometric",
          "RelaxedOneHotMultivariateHypergeometric", "RelaxedSample", "TemperatureAnnealing",
          "counts_from_one_hots", "kl_divergence", "relaxed_mvhg_distribution_lambda",
          "temperature_schedule"}


def test_public_names_are_importable_from_public_modules():
    assert set(tfp_mvhg.__all__) == PUBLIC
    for name in PUBLIC - {"kl_divergence"}:
        module = getattr(tfp_mvhg, name).__module__
        parts = module.split(".")
        assert parts[0] == "tfp_mvhg" and len(parts) == 2 and not parts[1].startswith("_"), name
    assert tfp_mvhg.kl_divergence is tfp.distributions.kl_divergence
    assert PaddedExp.__module__ == "tfp_mvhg.bijectors"
