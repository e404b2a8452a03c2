# Copyright 2026 The tfp-mvhg authors.
# SPDX-License-Identifier: Apache-2.0
"""The clustering recipe (experiments/clustering): the gradient rule of the prior weights, the
learning-rate schedule and its defaults, GMM restarts, denoising pretraining, resumable training
(checkpoints), held-out evaluation, the full Fashion-MNIST cache, and the legacy recipe that the
committed tables were made with. Tiny models and data; fixed seeds."""

import glob
import inspect
import io
import json
import os
import re

import numpy as np
import pytest
import tensorflow as tf
from sklearn.mixture import GaussianMixture

from mvhg_clustering import data as data_lib
from mvhg_clustering import experiment_dir
from mvhg_clustering import get_data
from mvhg_clustering import run as run_lib
from mvhg_clustering import table as table_lib
from mvhg_clustering import vade

SEED = tf.constant([1, 2], tf.int64)


def _quiet(message):
    del message


def _model(kind="uniform", seed=1, batch=16, clusters=4, input_dim=12):
    tf.keras.utils.set_random_seed(seed)
    return vade.VaDE(input_dim, clusters, latent_dim=3, hidden=(16, 16), prior=kind,
                     batch_size=batch)


def _set_gmm(model, clusters=4):
    rng = np.random.default_rng(0)
    vade.set_gmm(model, rng.normal(size=(clusters, 3)), np.full((clusters, 3), 0.5),
                 np.full(clusters, 1. / clusters))


def _images(num=64, input_dim=12):
    return np.random.default_rng(3).uniform(size=(num, input_dim)).astype(np.float32)


# The prior weights learn from the prior term only, for both learned priors --------------------

@pytest.mark.parametrize("kind", ["categorical", "hypergeometric"])
def test_prior_weights_learn_only_from_the_prior_term(kind):
    """The prior's marginal inside q(c|x) is under a stop-gradient for both priors, so the loss's
    gradient in the weights is -beta times that of log p(c) / B, and the prior term reaches q(c|x)
    (the encoder) through the straight-through counts. Failed before for the categorical prior,
    whose log_softmax(phi) inside q(c|x) passed the other ELBO terms' gradient to phi."""
    model = _model(kind)
    _set_gmm(model)
    model.prior_term_scale = 3.
    model.prior.logits.assign([0.4, -0.3, 0.2, 0.])
    x = tf.constant(_images(16))
    with tf.GradientTape(persistent=True) as tape:
        terms = model.elbo_terms(x, tf.constant(0.5), SEED)
        without_prior_term = terms["loss"] + model.prior_term_scale * terms["log_pc"]
        marginal = model.prior.marginal_log_probs()
    logits = model.prior.logits
    assert tape.gradient(marginal, logits) is None
    rest = tape.gradient(without_prior_term, logits)
    np.testing.assert_allclose(0. if rest is None else rest.numpy(), 0., atol=1e-6)
    prior_grad = tape.gradient(terms["log_pc"], logits).numpy()
    assert np.abs(prior_grad).max() > 1e-3
    np.testing.assert_allclose(tape.gradient(terms["loss"], logits).numpy(), -3. * prior_grad,
                               rtol=1e-5, atol=1e-7)
    encoder = tape.gradient(terms["log_pc"], model.encoder_body.trainable_variables)
    assert max(np.abs(g.numpy()).max() for g in encoder) > 0.


# The learning-rate schedule and its defaults -------------------------------------------------

def test_learning_rate_defaults_agree_between_train_vade_and_the_command_line():
    """Failed before: train_vade's default learning rate was 5e-4, the command line's 1e-3."""
    args = run_lib.resolve(run_lib.build_parser().parse_args(["--prior", "uniform"]))
    parameters = inspect.signature(vade.train_vade).parameters
    for key, name in (("lr", "learning_rate"), ("lr_decay", "lr_decay"),
                      ("lr_decay_every", "lr_decay_every"), ("lr_floor", "lr_floor"),
                      ("adam_epsilon", "adam_epsilon"), ("prior_lr", "prior_learning_rate")):
        assert parameters[name].default == getattr(args, key), key
    assert (args.lr, args.lr_decay, args.lr_decay_every, args.lr_floor, args.adam_epsilon) == (
        2e-3, 0.9, 10, 2e-4, 1e-4)  # VaDE's
    gmm = inspect.signature(vade.init_gmm).parameters
    assert (gmm["n_init"].default, gmm["reg_covar"].default) == (
        args.gmm_n_init, args.gmm_reg_covar) == (10, 1e-6)


def test_vade_learning_rate_schedule():
    rates = [vade.learning_rate_at(e, 2e-3, 0.9, 10, 2e-4) for e in range(400)]
    assert rates[:10] == [2e-3] * 10 and rates[10] == pytest.approx(1.8e-3)
    assert rates[29] == pytest.approx(2e-3 * 0.81) and rates[30] == pytest.approx(2e-3 * 0.729)
    assert min(rates) == 2e-4 and rates[219] > 2e-4 and rates[220] == 2e-4  # 0.9^22 < 0.1
    assert all(a >= b for a, b in zip(rates, rates[1:], strict=False))
    assert vade.learning_rate_at(123, 1e-3) == 1e-3  # (1, 1, 0): constant, the legacy recipe


def test_train_vade_uses_the_schedule_for_both_rates():
    model = _model("categorical")
    _set_gmm(model)
    history = vade.train_vade(model, _images(32), epochs=5, learning_rate=1e-3, lr_decay=0.5,
                              lr_decay_every=2, lr_floor=3e-4, seed=0, log=_quiet)
    assert [h["lr"] for h in history] == [1e-3, 1e-3, 5e-4, 5e-4, 3e-4]


def test_train_vade_steps_at_the_scheduled_rates():
    """The optimizers take the scheduled rates, not only the history: cut 10^4-fold after the
    first epoch (networks and GMM 1e-3 -> 1e-7, prior weights 1e-2 -> 1e-6), the second epoch's
    2 Adam steps move no variable by more than 2 x 3.2 x 1e-6 (an Adam step is at most about
    3.2 rates), where the first moves the networks by more than 1e-4. Failed before: Keras copies
    a `tf.Variable` rate, so the rates assigned to it never reached the steps."""
    model = _model("categorical")
    _set_gmm(model)
    snapshots = [[v.numpy() for v in model.trainable_variables]]
    vade.train_vade(model, _images(32), epochs=2, learning_rate=1e-3, lr_decay=1e-4,
                    lr_decay_every=1, lr_floor=0., seed=0, eval_every=1, log=_quiet,
                    evaluate=lambda m: snapshots.append(
                        [v.numpy() for v in m.trainable_variables]) or {})
    first, second = (max(np.abs(a - b).max() for a, b in zip(later, earlier, strict=True))
                     for earlier, later in zip(snapshots, snapshots[1:], strict=False))
    assert first > 1e-4
    assert second < 2 * 3.2 * 1e-6, second


# Bad parameters are named ---------------------------------------------------------------------

@pytest.mark.parametrize("flag,value,message", [
    ("--lr", "0", "--lr must be a finite number > 0"),
    ("--lr-decay", "1.5", "--lr-decay must be in (0, 1]"),
    ("--lr-floor", "0.01", "--lr-floor must be in [0, --lr 0.002]"),
    ("--lr-decay-every", "0", "--lr-decay-every must be an integer >= 1"),
    ("--adam-epsilon", "-1", "--adam-epsilon must be a finite number > 0"),
    ("--gmm-n-init", "0", "--gmm-n-init must be an integer >= 1"),
    ("--gmm-reg-covar", "nan", "--gmm-reg-covar must be a finite number > 0"),
    ("--pretrain-noise", "1", "--pretrain-noise must be in [0, 1)"),
    ("--eval-every", "-1", "--eval-every must be an integer >= 0"),
    ("--checkpoint-every", "-2", "--checkpoint-every must be an integer >= 0"),
    ("--data-seed", "-3", "--data-seed must be an integer >= 0"),
    ("--subset", "100", "--subset must be an integer >= 128 (--batch-size)"),
    ("--hidden", "500,,20", "--hidden must be layer widths > 0 separated by commas")])
def test_bad_parameters_stop_the_commands_with_one_line_naming_the_flag(flag, value, message,
                                                                        tmp_path, capsys):
    argv = ["--prior", "uniform", "--out", str(tmp_path), flag, value]
    with pytest.raises(ValueError, match=re.escape(message)):
        run_lib.resolve(run_lib.build_parser().parse_args(argv))
    for main, args in ((run_lib.main, argv),
                       (table_lib.main, ["--results", str(tmp_path), flag, value])):
        with pytest.raises(SystemExit) as stop:
            main(args)
        err = capsys.readouterr().err
        assert stop.value.code == 2 and f"error: {message}, got " in err
        assert "Traceback" not in err
    assert not os.listdir(tmp_path)


@pytest.mark.parametrize("flag,value,message", [
    ("--num-clusters", "1", "--num-clusters must be an integer >= 2"),
    ("--latent-dim", "0", "--latent-dim must be an integer >= 1"),
    ("--seed", "-1", "--seed must be an integer >= 0")])
def test_bad_model_sizes_and_seeds_stop_a_run_before_it_trains(flag, value, message, tmp_path,
                                                               capsys):
    """Failed before: `--num-clusters 0` pretrained for minutes, then failed in scikit-learn."""
    with pytest.raises(SystemExit) as stop:
        run_lib.main(["--prior", "uniform", "--out", str(tmp_path), flag, value])
    err = capsys.readouterr().err
    assert stop.value.code == 2 and f"error: {message}, got " in err
    assert not os.listdir(tmp_path)


def test_the_table_takes_no_abbreviated_flags(tmp_path, capsys):
    """`--seed 3` is not taken for `--seeds 3` (argparse's abbreviations; failed before)."""
    with pytest.raises(SystemExit):
        table_lib.main(["--results", str(tmp_path), "--seed", "3", "--no-train"])
    assert "unrecognized arguments: --seed 3" in capsys.readouterr().err


@pytest.mark.parametrize("argv,message", [
    (["--seeds", "0"], "--seeds must be an integer >= 1, got 0."),
    (["--versions", "100,70"], "argument --version: invalid choice: 70"),
    (["--priors", "uniform,hypergeometirc"], "argument --prior: invalid choice: 'hypergeometirc'"),
    (["--priors", "hypergeometric", "--fix-prior-weights", "--baseline-priors", "uniform,x"],
     "argument --prior: invalid choice: 'x'")])
def test_the_table_checks_every_run_before_training_any(argv, message, tmp_path, capsys):
    """A bad value in any arm, version or seed count stops the table before it trains or writes
    anything. Failed before: only the first prior and version were checked, so a typo further on
    stopped the table hours later, and `--seeds 0` overwrote `table.json` with an empty one."""
    with pytest.raises(SystemExit) as stop:
        table_lib.main(argv + ["--results", str(tmp_path), "--dataset", "digits", "--quick"])
    assert stop.value.code == 2 and message in capsys.readouterr().err
    assert not os.listdir(tmp_path)


def test_vade_functions_name_bad_parameters():
    model = _model()
    with pytest.raises(ValueError, match="lr_floor must be in"):
        vade.train_vade(model, _images(32), 1, learning_rate=1e-3, lr_floor=1e-2, log=_quiet)
    with pytest.raises(ValueError, match="noise must be in"):
        vade.pretrain_autoencoder(model, _images(32), 1, noise=-0.1, log=_quiet)
    with pytest.raises(ValueError, match="n_init must be an integer >= 1"):
        vade.init_gmm(model, _images(32), n_init=0)
    with pytest.raises(ValueError, match="eval_split must be one of"):
        data_lib.load_split("digits", eval_split="train")
    with pytest.raises(ValueError, match="--eval-split test does not go with --recipe legacy"):
        run_lib.resolve(run_lib.build_parser().parse_args(
            ["--prior", "uniform", "--dataset", "fashion", "--recipe", "legacy",
             "--eval-split", "test"]))


# GMM restarts and held-out GMM assignments -----------------------------------------------------

def test_gmm_restarts_keep_the_most_likely_fit_and_predict_matches_scikit_learn():
    model = _model()
    x = _images(200)
    fits = {n: vade.init_gmm(model, x, seed=0, n_init=n, reg_covar=1e-4)[2] for n in (1, 8)}
    assert fits[8]["n_init"] == 8 and fits[8]["reg_covar"] == 1e-4
    # The first restart of 8 is the single fit (same random state): the kept one is at least as
    # likely. No labels are passed anywhere.
    assert fits[8]["lower_bound"] >= fits[1]["lower_bound"]
    z = np.random.default_rng(1).normal(size=(300, 3))
    gmm = GaussianMixture(4, covariance_type="diag", random_state=0).fit(z)
    np.testing.assert_array_equal(
        vade.gmm_predict(z, gmm.means_, gmm.covariances_, gmm.weights_), gmm.predict(z))


def test_denoising_pretraining_is_deterministic_and_differs_from_plain():
    def losses(noise):
        model = _model()
        return vade.pretrain_autoencoder(model, _images(40), 2, batch_size=16, noise=noise,
                                         seed=5, log=_quiet)

    noisy = losses(0.3)
    assert noisy == losses(0.3) and noisy != losses(0.)


# Resumable training ----------------------------------------------------------------------------

def _weights(model):
    return [v.numpy() for v in model.variables]


def test_interrupted_and_resumed_training_equals_an_uninterrupted_run(tmp_path):
    """Pretraining stopped after 1 of 3 epochs and joint training after 2 of 5, each resumed by a
    new model object (as a new process would build), end with the weights, optimizer-driven
    updates and histories of an uninterrupted run."""
    x = _images(64)
    kwargs = {"batch_size": 16, "seed": 4, "noise": 0.2, "checkpoint_every": 2, "log": _quiet}
    joint = {"learning_rate": 2e-3, "lr_decay": 0.5, "lr_decay_every": 2, "lr_floor": 1e-4,
             "seed": 4, "checkpoint_every": 3, "log": _quiet, "eval_every": 2,
             "evaluate": lambda m: {"acc": float(m.predict_clusters(x)[0].mean())}}

    reference = _model("hypergeometric")
    pre_ref = vade.pretrain_autoencoder(reference, x, 3, **kwargs)
    _set_gmm(reference)
    hist_ref = vade.train_vade(reference, x, 5, **joint)

    folder = str(tmp_path / "pretrain")
    with pytest.raises(vade.StoppedEarly, match="pretraining stopped after epoch 1"):
        vade.pretrain_autoencoder(_model("hypergeometric"), x, 3, checkpoint_dir=folder,
                                  stop_after_epochs=1, **kwargs)
    assert sorted(os.listdir(folder)) == ["ckpt-1.data-00000-of-00001", "ckpt-1.index",
                                          "state.json"]
    resumed = _model("hypergeometric", seed=99)  # other initial weights: all come from the file
    pre = vade.pretrain_autoencoder(resumed, x, 3, checkpoint_dir=folder, **kwargs)
    assert pre == pre_ref
    _set_gmm(resumed)
    joint_folder = str(tmp_path / "joint")
    with pytest.raises(vade.StoppedEarly, match="joint training stopped after epoch 2"):
        vade.train_vade(resumed, x, 5, checkpoint_dir=joint_folder, stop_after_epochs=2, **joint)
    assert json.load(open(os.path.join(joint_folder, "state.json")))["epoch"] == 2
    again = _model("hypergeometric", seed=7)  # every variable comes from the checkpoint
    _set_gmm(again)
    hist = vade.train_vade(again, x, 5, checkpoint_dir=joint_folder, **joint)
    assert [h["loss"] for h in hist] == pytest.approx([h["loss"] for h in hist_ref], rel=1e-6)
    assert [sorted(h) for h in hist] == [sorted(h) for h in hist_ref]
    assert [h.get("acc") for h in hist] == [h.get("acc") for h in hist_ref]  # epochs 2, 4, 5
    assert [h.get("acc") is not None for h in hist] == [False, True, False, True, True]
    for got, expected in zip(_weights(again), _weights(reference), strict=True):
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-7)
    # A rerun of the finished loop (a new model at the same start) restores its last checkpoint
    # and trains nothing; one from another start (the trained model) starts afresh.
    fresh = _model("hypergeometric", seed=8)
    _set_gmm(fresh)
    assert vade.train_vade(fresh, x, 5, checkpoint_dir=joint_folder, **joint) == hist
    for got, expected in zip(_weights(fresh), _weights(again), strict=True):
        np.testing.assert_array_equal(got, expected)


def test_a_checkpoint_written_with_other_settings_is_not_resumed(tmp_path):
    x, messages = _images(32), []
    model = _model()
    _set_gmm(model)
    vade.train_vade(model, x, 2, checkpoint_dir=str(tmp_path), checkpoint_every=1, log=_quiet)
    history = vade.train_vade(model, x, 2, learning_rate=1e-3, checkpoint_dir=str(tmp_path),
                              checkpoint_every=1, log=messages.append)
    assert [h["epoch"] for h in history] == [1, 2]
    assert any("other settings (" in m and "learning_rate: 0.002 -> 0.001" in m
               and "starting afresh" in m for m in messages)


def test_clearing_a_stale_checkpoint_keeps_the_checkpoints_of_the_loops_inside_its_folder(
        tmp_path):
    """The layer-wise pairs checkpoint into `folder/layer{l}`, inside the end-to-end
    pretraining's folder; a stale end-to-end checkpoint is cleared without them (failed before:
    `clear` removed the whole folder, so the finished pairs were trained again)."""
    pair = tf.Variable([1., 2.])
    pair_checkpoints = vade.Checkpoints(str(tmp_path / "layer0"), 1, {"phase": "pair"}, _quiet,
                                        weights=pair)
    pair_checkpoints.save(3, [0.5, 0.4, 0.3])
    end_to_end = tf.Variable(0.)
    vade.Checkpoints(str(tmp_path), 1, {"lr": 1}, _quiet, weights=end_to_end).save(2, [1., 1.])
    messages = []
    stale = vade.Checkpoints(str(tmp_path), 1, {"lr": 2}, messages.append, weights=end_to_end)
    assert stale.restore() == (0, [])
    assert "starting afresh" in messages[0]
    assert sorted(os.listdir(tmp_path)) == ["layer0"]
    pair.assign([0., 0.])
    resumed = vade.Checkpoints(str(tmp_path / "layer0"), 1, {"phase": "pair"}, _quiet,
                               weights=pair)
    assert resumed.restore() == (3, [0.5, 0.4, 0.3])
    assert pair.numpy().tolist() == [1., 2.]


RUN = ["--prior", "categorical", "--dataset", "digits", "--subset", "128", "--hidden", "16,16",
       "--pretrain-epochs", "2", "--epochs", "3", "--batch-size", "32", "--eval-every", "2",
       "--checkpoint-every", "5", "--pretrain-noise", "0.1"]
RESULT = "digits_v100_categorical_s0.json"


def test_a_run_stopped_twice_and_rerun_ends_like_an_uninterrupted_one_with_held_out_scores(
        tmp_path, capsys):
    """`--stop-after-epochs` 1 (in pretraining), then 3 (in joint training: 2 + 1), then a plain
    rerun: the same result as one uninterrupted run. The result reports the held-out scores
    (`scores` = `test_scores`) beside the training images' ones."""
    assert run_lib.main(RUN + ["--out", str(tmp_path / "a")]) == 0
    out = tmp_path / "b"
    for stop in (1, 3):
        assert run_lib.main(RUN + ["--out", str(out), "--stop-after-epochs", str(stop)]) == 0
        assert f"--stop-after-epochs {stop}; rerun to continue" in capsys.readouterr().out
        assert not (out / RESULT).exists()
    assert glob.glob(str(out / "checkpoints" / RESULT[:-5] / "ckpt-1.index"))
    assert run_lib.main(RUN + ["--out", str(out)]) == 0
    assert "joint training resumed from" in capsys.readouterr().out
    assert not (out / "checkpoints").exists() and not glob.glob(str(out / "pretrain" / "*.ckpt"))
    first, second = (run_lib.read_result(str(folder / RESULT)) for folder in (tmp_path / "a", out))
    for key in ("scores", "train_scores", "test_scores", "init_gmm_scores", "prior_weights",
                "cluster_to_class", "pretrain_history"):
        assert first[key] == pytest.approx(second[key], rel=1e-6), key
    assert [h["loss"] for h in first["history"]] == pytest.approx(
        [h["loss"] for h in second["history"]], rel=1e-6)
    # Held-out evaluation, side by side with the training images.
    assert first["scores"] == first["test_scores"] != first["train_scores"]
    assert first["scores_on"] == "held-out images"
    assert first["data"]["num_images"] == 128 and first["data"]["num_test_images"] == 128
    assert first["data"]["eval_split"] == "test" and first["config"]["recipe"] == "vade"
    assert first["init_gmm_scores"] == first["init_gmm_test_scores"]
    evaluated = ["acc", "test_loss", "train_acc"]  # every 2nd epoch and the last
    assert [sorted(k for k in h if k in evaluated) for h in first["history"]] == [
        [], evaluated, evaluated]
    assert first["gmm_fit"]["n_init"] == 10 and first["seconds"]["joint_epochs_per_second"] > 0


# Held-out images -------------------------------------------------------------------------------

def test_held_out_split_is_fixed_disjoint_and_versioned():
    x, y = data_lib.load_digits()
    split = data_lib.load_split("digits", 100)
    assert len(split.x_test) == data_lib.HELD_OUT["digits"] == 360
    assert len(split.x_train) == len(x) - 360
    np.testing.assert_array_equal(np.bincount(split.y_train) + np.bincount(split.y_test),
                                  np.bincount(y))
    mask = data_lib.held_out_mask(len(x), 360)
    np.testing.assert_array_equal(split.x_test, x[mask])
    np.testing.assert_array_equal(mask, data_lib.held_out_mask(len(x), 360))  # fixed
    version = data_lib.load_split("digits", 60, data_seed=3)
    for part, full in ((version.y_train, split.y_train), (version.y_test, split.y_test)):
        np.testing.assert_array_equal(np.bincount(part)[:5],
                                      np.round(np.bincount(full)[:5] * 0.6))
        np.testing.assert_array_equal(np.bincount(part)[5:], np.bincount(full)[5:])
    none = data_lib.load_split("digits", 100, eval_split="none")
    assert none.x_test is None and len(none.x_train) == len(x)
    mask = data_lib.held_out_mask(10000, 2000)  # mnist10k's, whose file is sorted by class
    assert mask.sum() == 2000 and mask[:1000].sum() > 100 and mask[-1000:].sum() > 100
    sub_x, sub_y = data_lib.take_subset(x, y, 100)
    assert len(sub_x) == 100 and len(np.unique(sub_y)) == 10


def test_an_old_fashion_cache_without_the_split_says_how_to_rebuild_it(tmp_path):
    path = tmp_path / "fashion.npz"
    np.savez(path, x=np.zeros((4, 784), np.uint8), y=np.arange(4))  # the 10k test-split cache
    with pytest.raises(data_lib.CorruptFile, match="no array 'is_test'.*make data"):
        data_lib.load_split("fashion", data_dir=str(tmp_path))
    np.savez(path, x=np.zeros((4, 784), np.uint8), y=np.arange(4), is_test=np.arange(4) > 1)
    split = data_lib.load_split("fashion", data_dir=str(tmp_path))
    assert list(split.y_train) == [0, 1] and list(split.y_test) == [2, 3]
    buffer = io.BytesIO()
    np.savez(buffer, x=np.zeros((4, 784), np.uint8), y=np.arange(4), is_test=np.arange(4))
    path.write_bytes(buffer.getvalue())
    with pytest.raises(data_lib.CorruptFile, match="is_test of shape"):
        data_lib.load_split("fashion", data_dir=str(tmp_path))
    assert get_data.EXPECTED["fashion"] == [7000] * 10
    assert get_data.EXPECTED_TEST["fashion"] == [1000] * 10


# The legacy recipe: the committed tables' settings ----------------------------------------------

def test_the_legacy_recipe_resolves_to_the_committed_runs_stored_settings():
    """Every setting stored in a committed result (digits, MNIST-10k, its variant table, Fashion
    on 5000 images) is what `--recipe legacy` with that run's own flags resolves to."""
    paths = sorted(glob.glob(os.path.join(experiment_dir(), "results", "*", "runs", "*_s0.json"))
                   + glob.glob(os.path.join(experiment_dir(), "results", "mnist10k",
                                            "gmmw_fixed", "runs", "*_s0.json")))
    assert len(paths) >= 30
    for path in paths:
        config = run_lib.read_result(path)["config"]
        argv = ["--recipe", "legacy", "--prior", config["prior"], "--dataset", config["dataset"],
                "--version", str(config["version"]), "--seed", str(config["seed"])]
        if config["subset"]:
            argv += ["--subset", str(config["subset"])]
        for flag in ("init_prior_from_gmm", "fix_prior_weights"):
            argv += ["--" + flag.replace("_", "-")] * bool(config.get(flag))
        if config.get("prior_term_scale", 1.) != 1.:
            argv += ["--prior-term-scale", str(config["prior_term_scale"])]
        args = run_lib.resolve(run_lib.build_parser().parse_args(argv))
        for key, value in config.items():
            if key not in ("out", "pretrain_cache"):
                assert getattr(args, key) == value, (path, key)
        assert (args.lr_decay_every, args.lr_floor, args.adam_epsilon, args.gmm_n_init,
                args.eval_split, args.eval_every) == (1, 0., 1e-7, 1, "none", 1)
        assert args.out.endswith(os.path.join("results", config["dataset"], "runs"))


def test_table_passes_the_recipe_flags_to_every_run(tmp_path):
    args = table_lib.build_parser().parse_args(
        ["--dataset", "mnist10k", "--recipe", "legacy", "--lr-floor", "1e-4", "--eval-split",
         "test", "--gmm-n-init", "3", "--pretrain-noise", "0.2", "--checkpoint-every", "0"])
    run_args = table_lib.run_args(args, "uniform", 80, 2, str(tmp_path))
    assert (run_args.recipe, run_args.lr, run_args.lr_floor, run_args.eval_split,
            run_args.gmm_n_init, run_args.pretrain_noise, run_args.checkpoint_every,
            run_args.epochs) == ("legacy", 1e-3, 1e-4, "test", 3, 0.2, 0, 10)
    default = table_lib.run_args(table_lib.build_parser().parse_args([]), "uniform", 100, 0,
                                 str(tmp_path))
    assert (default.recipe, default.eval_split, default.pretrain_epochs) == ("vade", "test", 300)


def test_curves_and_the_latent_diagnosis_read_a_run(tmp_path, capsys):
    """`curves` plots a finished run; `diagnose` clusters its cached encoder's latent means."""
    from mvhg_clustering import curves
    from mvhg_clustering import diagnose
    assert run_lib.main(RUN + ["--out", str(tmp_path)]) == 0
    curves.main([str(tmp_path / RESULT), "--out", str(tmp_path / "curves.png")])
    assert (tmp_path / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    x, y = data_lib.load_digits()
    cache, = glob.glob(str(tmp_path / "pretrain" / "*.npz"))
    scores = diagnose.latent_scores(cache, x[:200], y[:200], hidden=(16, 16))
    assert sorted(scores) == ["gmm_diag_latent", "gmm_full_latent", "kmeans_latent"]
    assert all(0.1 <= score <= 1. for score in scores.values())
    assert diagnose.pixel_scores(x[:200], y[:200])["kmeans_pixels"] > 0.5  # digits: ~0.8


def test_the_latent_diagnosis_reads_the_data_dir_it_is_given(tmp_path, capsys):
    """`diagnose --data-dir` loads the data set from there: a folder without the cache stops it
    with one line naming the missing file (exit status 2), not a traceback."""
    from mvhg_clustering import diagnose
    with pytest.raises(SystemExit) as stop:
        diagnose.main(["unused.npz", "--dataset", "mnist10k", "--data-dir", str(tmp_path)])
    assert stop.value.code == 2
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert str(tmp_path / "mnist10k.npz") in error


def test_the_batch_mvhg_is_close_to_a_multinomial():
    """The derivation in `vade`'s docstring ("Why the hypergeometric and categorical priors
    agree"): with m_k = n = B = 128 and K = 10 the MVHG's count variance is the multinomial's
    (same mean) times the finite-population factor (K - 1) B / (KB - 1) for equal weights (closed
    form of the central hypergeometric), and 0.7-1 of it for weights spread up to 100-fold."""
    import tfp_mvhg
    batch, clusters = 128, 10
    for weights, low, high in ((np.ones(clusters), None, None),
                               (np.linspace(0.5, 3., clusters), 0.84, 0.97),
                               (np.geomspace(0.1, 10., clusters), 0.70, 0.995)):
        dist = tfp_mvhg.MultivariateHypergeometric([float(batch)] * clusters, float(batch),
                                                   weights=weights)
        share = dist.mean().numpy() / batch
        ratio = np.diag(dist.covariance().numpy()) / (batch * share * (1. - share))
        if low is None:
            np.testing.assert_allclose(ratio, (clusters - 1) * batch / (clusters * batch - 1),
                                       rtol=1e-9)
        else:
            assert np.all((ratio > low) & (ratio < high)), ratio
