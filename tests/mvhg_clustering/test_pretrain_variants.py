# Copyright 2026 The tfp-mvhg authors.
# SPDX-License-Identifier: Apache-2.0
"""The pretraining variants (`vade.pretrain_autoencoder`'s loss, rate decay, weight decay, latent
penalty and initialisation; run.py's `--pretrain-*` flags): each does what it says, the defaults
are unchanged, and every non-default setting is part of the pretraining cache's name. Tiny models
and data; fixed seeds."""

import re

import numpy as np
import pytest
import tensorflow as tf

from mvhg_clustering import run as run_lib
from mvhg_clustering import vade


def _quiet(message):
    del message


def _model(seed=1, input_dim=12):
    tf.keras.utils.set_random_seed(seed)
    return vade.VaDE(input_dim, 4, latent_dim=3, hidden=(16, 16), batch_size=16)


def _images(num=64, input_dim=12):
    return np.random.default_rng(3).uniform(size=(num, input_dim)).astype(np.float32)


def _pretrain(epochs=2, **kwargs):
    model = _model()
    kwargs = dict({"batch_size": 16, "seed": 5, "log": _quiet}, **kwargs)
    return model, vade.pretrain_autoencoder(model, _images(), epochs, **kwargs)


@pytest.mark.parametrize("loss", ["bce", "mse", "mse_sigmoid"])
def test_the_first_loss_is_the_chosen_reconstruction_loss_of_the_initial_networks(loss):
    """One batch of all images per epoch: the first epoch's loss is the initial networks' loss."""
    x = _images()
    model = _model()
    output = model.decoder(model.encoder_body(x)).numpy().astype(np.float64)
    if loss == "mse":  # linear output
        expected = np.mean(np.sum(np.square(output - x), -1))
    elif loss == "mse_sigmoid":
        expected = np.mean(np.sum(np.square(1. / (1. + np.exp(-output)) - x), -1))
    else:  # Bernoulli logits
        expected = np.mean(np.sum(np.logaddexp(0., output) - x * output, -1))
    history = vade.pretrain_autoencoder(model, x, 1, batch_size=len(x), loss=loss, log=_quiet)
    np.testing.assert_allclose(history[0], expected, rtol=1e-5)


def test_default_pretraining_is_unchanged_by_the_variants_defaults():
    _, plain = _pretrain()
    _, explicit = _pretrain(loss="bce", final_learning_rate=None, weight_decay=0., latent_l2=0.,
                            init="glorot")
    assert plain == explicit
    for variant in ({"loss": "mse"}, {"loss": "mse_sigmoid"}, {"final_learning_rate": 1e-4},
                    {"weight_decay": 0.5}, {"latent_l2": 1.}, {"init": "dec"}):
        assert _pretrain(**variant)[1] != plain, variant


def test_the_pretraining_rate_decays_geometrically_to_the_final_rate():
    rate = vade.pretrain_learning_rate_at
    assert rate(0, 10, 1e-3, 1e-4) == pytest.approx(1e-3)
    assert rate(9, 10, 1e-3, 1e-4) == pytest.approx(1e-4)
    assert rate(3, 7, 1e-3, 1e-5) == pytest.approx(1e-4)  # halfway in log
    assert rate(5, 10, 1e-3, None) == 1e-3
    # Applied per epoch: the first epoch runs at the start rate (same loss), the second does not.
    _, constant = _pretrain(final_learning_rate=1e-3)
    _, decayed = _pretrain(final_learning_rate=1e-6)
    assert constant[0] == decayed[0] and constant[1] != decayed[1]


def test_latent_penalty_and_weight_decay_shrink_what_they_penalize():
    x = _images()
    plain, _ = _pretrain(epochs=20)
    shrunk, _ = _pretrain(epochs=20, latent_l2=10.)

    def norm(model):
        return np.mean(np.sum(np.square(model.encoder_body(x).numpy()), -1))

    assert norm(shrunk) < 0.5 * norm(plain)
    decayed, _ = _pretrain(epochs=20, weight_decay=5.)

    def weights(model):
        return sum(float(np.sum(np.square(w)))
                   for w in model.encoder_body.get_weights() + model.decoder.get_weights())

    assert weights(decayed) < 0.8 * weights(plain)


def test_dec_initialisation_is_bounded_by_one_over_root_fan_in_with_zero_biases():
    model, _ = _pretrain(epochs=0, init="dec")
    other, _ = _pretrain(epochs=0, init="dec", seed=6)
    glorot, _ = _pretrain(epochs=0)
    for layer, layer2, layer3 in zip(model.encoder_body.layers + model.decoder.layers,
                                     other.encoder_body.layers + other.decoder.layers,
                                     glorot.encoder_body.layers + glorot.decoder.layers,
                                     strict=True):
        kernel = layer.kernel.numpy()
        assert np.abs(kernel).max() <= 1. / np.sqrt(kernel.shape[0]) + 1e-7
        assert np.abs(kernel).max() > 0.8 / np.sqrt(kernel.shape[0])  # uniform, the full range
        assert not np.any(layer.bias.numpy())
        assert not np.allclose(kernel, layer2.kernel.numpy())  # depends on the seed
        assert not np.allclose(kernel, layer3.kernel.numpy())  # replaced glorot's


def test_pretraining_variants_name_bad_values():
    model = _model()
    for kwargs, message in (({"loss": "l1"}, "loss must be one of"),
                            ({"init": "he"}, "init must be one of"),
                            ({"final_learning_rate": 0.}, "final_learning_rate must be"),
                            ({"weight_decay": -1.}, "weight_decay must be"),
                            ({"latent_l2": float("nan")}, "latent_l2 must be")):
        with pytest.raises(ValueError, match=message):
            vade.pretrain_autoencoder(model, _images(32), 1, log=_quiet, **kwargs)


PILOT_KEY = "mnist10k_v100_ds0_s0_n8000_h500-500-2000_d10_k10_e300_b128_test_gmm10x1e-06"


def _key(*flags):
    args = run_lib.resolve(run_lib.build_parser().parse_args(
        ["--prior", "uniform", "--dataset", "mnist10k", "--out", "/nonexistent"] + list(flags)))
    return run_lib._pretrain_key(args, 8000)  # pylint: disable=protected-access


def test_every_pretraining_variant_is_part_of_the_cache_name_and_the_defaults_keep_it():
    assert _key() == PILOT_KEY  # the pilot's cache is still found
    assert _key("--pretrain-batch-size", "128", "--pretrain-loss", "bce",
                "--pretrain-init", "glorot") == PILOT_KEY
    variants = [("--pretrain-loss", "mse"), ("--pretrain-loss", "mse_sigmoid"),
                ("--pretrain-batch-size", "256"),
                ("--pretrain-lr-final", "1e-4"), ("--pretrain-weight-decay", "0.01"),
                ("--pretrain-latent-l2", "0.1"), ("--pretrain-init", "dec")]
    keys = {_key(*flags) for flags in variants}
    keys |= {_key(*variants[0], *variants[2]), _key("--pretrain-latent-l2", "0.2")}
    assert len(keys) == len(variants) + 2 and PILOT_KEY not in keys
    assert _key(*variants[2]) == PILOT_KEY.replace("_gmm", "_pb256_gmm")


@pytest.mark.parametrize("flag,value,message", [
    ("--pretrain-lr-final", "0", "--pretrain-lr-final must be a finite number > 0"),
    ("--pretrain-weight-decay", "-1", "--pretrain-weight-decay must be a finite number >= 0"),
    ("--pretrain-latent-l2", "inf", "--pretrain-latent-l2 must be a finite number >= 0"),
    ("--pretrain-batch-size", "0", "--pretrain-batch-size must be an integer >= 1")])
def test_bad_pretraining_flags_are_named(flag, value, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        _key(flag, value)


def test_run_passes_the_pretraining_flags_on(monkeypatch, tmp_path):
    seen = {}

    def fake_pretrain(model, x, epochs, **kwargs):
        seen.update(kwargs)
        raise vade.StoppedEarly("pretraining", 0)

    monkeypatch.setattr(vade, "pretrain_autoencoder", fake_pretrain)
    args = run_lib.build_parser().parse_args(
        ["--prior", "uniform", "--dataset", "digits", "--subset", "64", "--hidden", "8,8",
         "--out", str(tmp_path), "--batch-size", "32", "--pretrain-loss", "mse",
         "--pretrain-batch-size", "16", "--pretrain-lr-final", "1e-5",
         "--pretrain-weight-decay", "0.5", "--pretrain-latent-l2", "0.25",
         "--pretrain-init", "dec"])
    assert run_lib.run(args, log=_quiet) is None
    assert {key: seen[key] for key in ("batch_size", "loss", "final_learning_rate",
                                       "weight_decay", "latent_l2", "init")} == {
        "batch_size": 16, "loss": "mse", "final_learning_rate": 1e-5, "weight_decay": 0.5,
        "latent_l2": 0.25, "init": "dec"}


def test_a_random_subset_and_the_legacy_recipes_first_images_have_their_own_caches():
    """`--subset N`: the legacy recipe pretrains on the first N images, the others on N at
    random; with every other setting equal the two used to share one cache name, so a shared
    `--pretrain-cache` gave one the other's autoencoder."""
    def key(*flags):
        args = run_lib.resolve(run_lib.build_parser().parse_args(
            ["--prior", "uniform", "--dataset", "digits", "--subset", "500",
             "--out", "/nonexistent"] + list(flags)))
        return run_lib._pretrain_key(args, 500)  # pylint: disable=protected-access

    legacy = key("--recipe", "legacy")
    assert legacy == "digits_v100_ds0_s0_n500_h500-500-2000_d10_k10_e50_b128"  # kept
    assert key("--pretrain-epochs", "50", "--gmm-n-init", "1", "--eval-split", "none") == (
        legacy + "_random")
