# Copyright 2026 The tfp-mvhg authors.
# SPDX-License-Identifier: Apache-2.0
"""DEC's greedy layer-wise pretraining (`vade.pretrain_layerwise`, run.py's
`--pretrain-layerwise-epochs` and `--pretrain-dropout`): each pair is the encoder layer and its
mirror trained on the codes of the pairs before it, dropout is seeded, a stopped run resumes to the
same weights, and the flags reach the cache name and the run. Tiny models and data; fixed seeds."""

import re

import numpy as np
import pytest
import tensorflow as tf

from mvhg_clustering import run as run_lib
from mvhg_clustering import vade

HIDDEN = (16, 8)  # 3 encoder layers: 12 -> 16 -> 8 -> 3


def _quiet(message):
    del message


def _model(seed=1):
    tf.keras.utils.set_random_seed(seed)
    return vade.VaDE(12, 4, latent_dim=3, hidden=HIDDEN, batch_size=16)


def _images(num=64):
    return np.random.default_rng(3).uniform(size=(num, 12)).astype(np.float32)


def _weights(model):
    return model.encoder_body.get_weights() + model.decoder.get_weights()


def _dense(x, kernel, bias, relu):
    out = x.astype(np.float64) @ kernel + bias
    return np.maximum(out, 0.) if relu else out


def test_each_pair_is_an_encoder_layer_and_its_mirror_on_the_codes_of_the_pairs_before():
    """Without dropout and with one batch of all images, the first epoch's loss of pair l is the
    squared error of the initial (encoder layer l, decoder layer L-1-l) on h_l, the codes of the
    encoder layers below it, which no later pair changes. ReLU everywhere except the latent mean
    and the pixels' output, as in DEC."""
    x = _images()
    model = _model()
    encoder, decoder = model.encoder_body.layers, model.decoder.layers
    initial = [(layer.kernel.numpy(), layer.bias.numpy()) for layer in encoder + decoder]
    histories = vade.pretrain_layerwise(model, x, 1, batch_size=len(x), dropout=0., log=_quiet)
    assert [len(h) for h in histories] == [1, 1, 1]
    num_layers = len(encoder)
    codes = x.astype(np.float64)
    for pair in range(num_layers):
        enc_kernel, enc_bias = initial[pair]
        dec_kernel, dec_bias = initial[num_layers + num_layers - 1 - pair]
        hidden = _dense(codes, enc_kernel, enc_bias, relu=pair < num_layers - 1)
        output = _dense(hidden, dec_kernel, dec_bias, relu=pair > 0)
        expected = np.mean(np.sum(np.square(output - codes), -1))
        np.testing.assert_allclose(histories[pair][0], expected, rtol=2e-5)
        trained = encoder[pair]
        codes = _dense(codes, trained.kernel.numpy(), trained.bias.numpy(),
                       relu=pair < num_layers - 1)
    for got, start in zip(_weights(model), [w for pair in initial for w in pair], strict=True):
        assert not np.allclose(got, start)  # every layer was trained, once


def test_dropout_is_seeded_and_matters():
    def losses(seed=5, dropout=0.2):
        return vade.pretrain_layerwise(_model(), _images(), 2, batch_size=16, seed=seed,
                                       dropout=dropout, log=_quiet)

    reference = losses()
    assert losses() == reference
    assert losses(seed=6) != reference
    assert losses(dropout=0.)[0][0] < reference[0][0]  # dropout makes the task harder


@pytest.mark.parametrize("init,resume_seed", [("glorot", 1), ("dec", 99)])
def test_a_stopped_layerwise_pretraining_resumes_to_the_uninterrupted_weights(
        tmp_path, init, resume_seed):
    """Stopped in the second pair, rerun: the same losses and weights. With glorot the pairs not
    yet trained keep the model's initial weights (a run builds its model from its seed); with
    "dec" every layer is re-initialised from the seed, so any model resumes alike."""
    kwargs = {"batch_size": 16, "seed": 5, "init": init, "checkpoint_every": 1, "log": _quiet}
    reference = _model()
    expected = vade.pretrain_layerwise(reference, _images(), 2, **kwargs)
    folder = str(tmp_path / "ckpt")
    with pytest.raises(vade.StoppedEarly, match="layer-wise pretraining stopped after epoch 3"):
        vade.pretrain_layerwise(_model(), _images(), 2, checkpoint_dir=folder,
                                stop_after_epochs=3, **kwargs)
    messages = []
    resumed = _model(resume_seed)
    got = vade.pretrain_layerwise(resumed, _images(), 2, checkpoint_dir=folder,
                                  **dict(kwargs, log=messages.append))
    assert messages[0] == "layer-wise pretraining of pair 2/3 resumed at epoch 1/2"
    assert not any("pair 1/3" in message for message in messages)  # finished: skipped
    np.testing.assert_allclose(got, expected, rtol=1e-6)
    for value, reference_value in zip(_weights(resumed), _weights(reference), strict=True):
        np.testing.assert_allclose(value, reference_value, rtol=1e-5, atol=1e-7)


def test_layerwise_pretraining_names_bad_values():
    for kwargs, message in (({"dropout": 1.}, "dropout must be in [0, 1)"),
                            ({"learning_rate": 0.}, "learning_rate must be"),
                            ({"init": "he"}, "init must be one of"),
                            ({"batch_size": 0}, "batch_size must be an integer >= 1")):
        with pytest.raises(ValueError, match=re.escape(message)):
            vade.pretrain_layerwise(_model(), _images(32), 1, log=_quiet, **kwargs)


def _args(*flags):
    return run_lib.resolve(run_lib.build_parser().parse_args(
        ["--prior", "uniform", "--dataset", "mnist10k", "--out", "/nonexistent"] + list(flags)))


def test_the_layerwise_flags_are_part_of_the_cache_name_and_checked():
    plain = run_lib._pretrain_key(_args(), 8000)  # pylint: disable=protected-access
    layerwise = run_lib._pretrain_key(  # pylint: disable=protected-access
        _args("--pretrain-layerwise-epochs", "50"), 8000)
    assert layerwise == plain.replace("_gmm", "_lw50_gmm")
    assert run_lib._pretrain_key(  # pylint: disable=protected-access
        _args("--pretrain-layerwise-epochs", "50", "--pretrain-dropout", "0.1"),
        8000) == plain.replace("_gmm", "_lw50_do0.1_gmm")
    assert _args().pretrain_dropout is None
    assert _args("--pretrain-layerwise-epochs", "5").pretrain_dropout == 0.2
    with pytest.raises(ValueError, match="--pretrain-dropout is the layer-wise pretraining's"):
        _args("--pretrain-dropout", "0.1")
    with pytest.raises(ValueError, match=re.escape("--pretrain-dropout must be in [0, 1)")):
        _args("--pretrain-layerwise-epochs", "5", "--pretrain-dropout", "1")
    with pytest.raises(ValueError, match="--pretrain-layerwise-epochs must be an integer >= 0"):
        _args("--pretrain-layerwise-epochs", "-1")


RUN = ["--prior", "uniform", "--dataset", "digits", "--subset", "96", "--hidden", "16,8",
       "--pretrain-layerwise-epochs", "1", "--pretrain-epochs", "1", "--epochs", "2",
       "--batch-size", "32", "--checkpoint-every", "1", "--pretrain-init", "dec"]
RESULT = "digits_v100_uniform_s0.json"


def test_a_run_stopped_in_the_layerwise_pairs_and_rerun_ends_like_an_uninterrupted_one(
        tmp_path, capsys):
    """3 pairs x 1 epoch, then 1 end-to-end epoch, then joint training: stopped after epoch 2
    (the second pair) and after epoch 5 (the first joint epoch), rerun: the same result."""
    assert run_lib.main(RUN + ["--out", str(tmp_path / "a")]) == 0
    out = tmp_path / "b"
    for stop in (2, 5):
        assert run_lib.main(RUN + ["--out", str(out), "--stop-after-epochs", str(stop)]) == 0
        assert f"--stop-after-epochs {stop}; rerun to continue" in capsys.readouterr().out
    assert run_lib.main(RUN + ["--out", str(out)]) == 0
    first, second = (run_lib.read_result(str(folder / RESULT)) for folder in (tmp_path / "a", out))
    assert len(first["pretrain_layerwise_history"]) == 3
    for key in ("scores", "init_gmm_scores", "pretrain_history"):
        assert first[key] == pytest.approx(second[key], rel=1e-6), key
    np.testing.assert_allclose(first["pretrain_layerwise_history"],
                               second["pretrain_layerwise_history"], rtol=1e-6)
    assert first["config"]["pretrain_dropout"] == 0.2
