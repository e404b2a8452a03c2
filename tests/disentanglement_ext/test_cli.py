# Copyright 2026 The tfp-mvhg authors.
# SPDX-License-Identifier: Apache-2.0
"""The command lines: --help without TensorFlow, errors that say what to do, refusing a changed
config, the
progress line, and disentanglement_lib's own tools on one of our runs."""
import json
import os
import re
import subprocess
import sys
import tempfile

import gin
import pytest
import tensorflow.compat.v1 as tf

from disentanglement_ext import configs
from disentanglement_ext import dlib_tools
from disentanglement_ext import progress
from disentanglement_ext import train_weak
from disentanglement_ext import weak_training

CONFIGS = ["base", "label", "procedural", "cpu_small"]
TINY = ["model.training_steps = 4", "model.batch_size = 8", "model.eval_steps = 1",
        "evaluate_weak.num_train = 120", "evaluate_weak.num_test = 80", "model.num_shared = 3",
        'dlib_metrics.metrics = ["mig"]', "mig.num_train = 200"]
COMMANDS = {"mvhg_train_weak": "train_weak", "mvhg_sweep": "sweep", "mvhg_dlib": "dlib_tools"}
SCRIPTS = os.path.dirname(sys.executable)


@pytest.mark.parametrize("module", sorted(COMMANDS.values()))
def test_help_imports_neither_tensorflow_nor_numpy(module):
    code = (f"import sys\nfrom disentanglement_ext.{module} import main\ntry:\n"
            "    main(['--help'])\n"
            "except SystemExit:\n    pass\nprint(sorted(m for m in ('tensorflow', 'numpy', 'gin', "
            "'disentanglement_lib') if m in sys.modules))")
    output = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                            text=True).stdout
    assert "usage" in output.lower() and output.strip().endswith("[]")


@pytest.mark.parametrize("command", sorted(COMMANDS) + ["mvhg_clustering"])
def test_console_command_answers_help(command):
    """The installed command answers; its speed is measured by benchmarks/bench_cli_help.py."""
    result = subprocess.run([os.path.join(SCRIPTS, command), "--help"], capture_output=True,
                            text=True, check=True)
    assert "usage" in result.stdout.lower()


def test_missing_gin_file_names_the_shipped_configs():
    with pytest.raises(configs.ConfigError, match=r"gin file 'nope.gin' not found: .*Shipped "
                                                  r"configs \(pass the short name\): ada.gin, "
                                                  r"base.gin, cpu_small.gin, hg.gin"):
        weak_training.train_with_gin("unused", False, ["base", "nope.gin"], [])
    assert configs.find_gin_file("hg") == configs.find_gin_file("hg.gin") == os.path.join(
        configs.GIN_DIR, "hg.gin")


@pytest.mark.parametrize("binding, hint", [
    ("dynamics.k = 2", r"Use model.num_shared: .*dynamics.k.* s = F - k "),
    ("model.num_share = 2", r"Configurable 'model' doesn't have a parameter named 'num_share'"
                            r"(.|\n)*Did you mean model.num_shared\?"),
    ("modle.num_shared = 2", r"No configurable matching 'modle'(.|\n)*Did you mean "
                             r"model.num_shared\?"),
    ("hypergeometric_aggregation.tau = 1.", r"Did you mean hypergeometric_aggregation.tau_init or "
                                            r"hypergeometric_aggregation.tau_final\?")])
def test_unknown_gin_binding_suggests_the_name_meant(binding, hint):
    with pytest.raises(configs.ConfigError, match=hint):
        weak_training.train_with_gin("unused", False, CONFIGS + ["hg"], [binding])


def test_cli_prints_the_error_without_a_traceback(tmp_path):
    result = subprocess.run(
        [os.path.join(SCRIPTS, "mvhg_train_weak"), "--model_dir", str(tmp_path / "run"),
         "--gin_config", "base", "--gin_config", "label", "--gin_bindings", "dynamics.k = 2"],
        capture_output=True, text=True, check=False)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.startswith("mvhg_train_weak: error: No configurable matching 'dynamics'")
    assert "Use model.num_shared" in result.stderr


def one_line_error(capsys, main, args):
    """`main(args)`'s exit status and its stderr, which must be one line and no traceback."""
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "Traceback" not in error, error
    return exit_info.value.code, error


@pytest.mark.parametrize("case, message", [
    ("syntax", r"gin file .*bad.gin, line 2: Unable to parse value in 'model.batch_size =' *\. "
               r"A binding is 'configurable.parameter = value'"),
    ("binding", r"--gin_bindings 'model.training_steps 40': Couldn't parse statement, expected "
                r"':' or '='\. A binding is"),
    ("bracket", r"--gin_bindings 'model.num_shared = \(': EOF in multi-line statement \(an "
                r"unclosed bracket or quote\)"),
    ("steps", r"model.training_steps must be a positive integer, got 0: bind it with "
              r"--gin_bindings 'model.training_steps = \.\.\.'"),
    ("file_dir", r"--model_dir .*run is a file: give a folder"),
    ("read_only", r"--model_dir /sys/kernel: cannot write there \(.*\); give a folder you can "
                  r"write to"),
    ("no_data", r"dataset.name = 'dsprites_full': its files are missing \(.*dsprites.*\.npz; "
                r"No such file or directory\); put disentanglement_lib's data .* under "
                r"\$DISENTANGLEMENT_LIB_DATA .*--gin_config procedural or --gin_config vector")])
def test_train_weak_answers_a_bad_command_line_in_one_line(tmp_path, monkeypatch, capsys, case,
                                                           message):
    """Each of these printed a traceback before (or named the estimator's max_steps)."""
    model_dir = str(tmp_path / "run")
    args = ["--model_dir", model_dir, "--gin_config", "base", "--gin_config", "label",
            "--gin_config", "vector"]
    if case == "syntax":
        (tmp_path / "bad.gin").write_text("model.training_steps = 3\nmodel.batch_size = \n")
        args += ["--gin_config", str(tmp_path / "bad.gin")]
    binding = {"binding": "model.training_steps 40", "bracket": "model.num_shared = (",
               "steps": "model.training_steps = 0",
               "no_data": 'dataset.name = "dsprites_full"'}.get(case)
    args += ["--gin_bindings", binding] if binding else []
    if case == "file_dir":
        (tmp_path / "run").write_text("")
    if case == "read_only":
        if not os.path.isdir("/sys/kernel") or _writable("/sys/kernel"):
            pytest.skip("needs Linux's read-only /sys/kernel")
        args[1] = "/sys/kernel"
    if case == "no_data":
        monkeypatch.chdir(tmp_path)  # disentanglement_lib's default data folder: "."
    code, error = one_line_error(capsys, train_weak.main, args)
    assert code == 2 and re.match(r"mvhg_train_weak: error: " + message, error), error


def _writable(folder):
    try:
        with tempfile.TemporaryFile(dir=folder):
            return True
    except OSError:
        return False


def test_verbose_shows_the_traceback_of_an_error(tmp_path, capsys):
    with pytest.raises(SystemExit):
        train_weak.main(["--model_dir", str(tmp_path), "--gin_config", "base", "--gin_config",
                         "label", "--gin_bindings", "model.training_steps = 0", "--verbose"])
    error = capsys.readouterr().err
    assert "Traceback" in error and error.endswith(
        "mvhg_train_weak: error: model.training_steps must be a positive integer, got 0: bind it "
        "with --gin_bindings 'model.training_steps = ...'.\n")


@pytest.mark.parametrize("args, message", [
    (["visualize_model", "--model_dir=/no/such/run", "--output_dir=/tmp/unused"],
     "--model_dir /no/such/run: no such folder; give a run folder (mvhg_train_weak --model_dir)"),
    (["evaluate", "--input_dir", "/no/such/run/postprocessed/mean"],
     "--input_dir /no/such/run/postprocessed/mean: no such folder; give a run folder "
     "(mvhg_train_weak --model_dir), or its postprocessed/NAME"),
    (["postprocess", "--model_dir=.", "--gin_config=/no/such.gin"],
     "--gin_config /no/such.gin: no such file."),
    (["no_such_tool"], "no dlib_no_such_tool in ")])
def test_mvhg_dlib_answers_a_bad_command_line_in_one_line(capsys, args, message):
    code, error = one_line_error(capsys, dlib_tools.main, args)
    assert code == 2 and error.startswith("mvhg_dlib: error: " + message), error


def test_mvhg_dlib_answers_an_error_of_the_tool_in_one_line(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "disentanglement_ext.dlib_tools", "evaluate",
         f"--input_dir={tmp_path}", f"--output_dir={tmp_path / 'out'}"],
        capture_output=True, text=True, check=False, env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.splitlines()[-1] == (
        "mvhg_dlib: error: dlib_evaluate failed: RuntimeError: Required bindings for `evaluation` "
        "not provided in config: ['evaluation_fn', 'random_seed'] (--verbose shows the traceback)")


def test_a_finished_run_with_another_gin_config_is_refused_not_skipped(tmp_path):
    model_dir = tmp_path / "run"
    model_dir.mkdir()
    (model_dir / weak_training.CONFIG_FILE).write_text(
        weak_training.gin_config_str(CONFIGS, TINY))
    (model_dir / weak_training.EVALUATION_FILE).write_text(json.dumps({"s_hat_mean": 1.}))
    assert weak_training.train_with_gin(str(model_dir), False, CONFIGS, TINY) is None  # same
    with pytest.raises(configs.ConfigError, match=r"was started with another gin config "
                                                  r"(.|\n)*-model.num_shared = 3\n\+model."
                                                  r"num_shared = 1\nUse --overwrite"):
        weak_training.train_with_gin(str(model_dir), False, CONFIGS,
                                     TINY + ["model.num_shared = 1"])
    assert (model_dir / weak_training.EVALUATION_FILE).exists()
    assert gin.config_str() == ""


def test_progress_hook_prints_one_line_per_n_steps():
    lines = []
    with tf.Graph().as_default():
        step = tf.train.get_or_create_global_step()
        loss = tf.cast(step, tf.float32) * 2.
        tensors = {"loss": loss, "reconstruction_loss": loss - 1., "kl_loss": loss * 0. + 0.5,
                   "k_hat": loss * 0. + 3., "unshown": loss}
        hook = progress.ProgressHook(tensors, every_n_steps=5, last_step=12, write=lines.append)
        train_op = tf.assign_add(step, 1)
        with tf.train.MonitoredSession(hooks=[hook]) as session:
            for _ in range(12):
                session.run(train_op)
    assert [line.split("  ")[0] for line in lines] == [
        "[train_weak] step 1/12", "[train_weak] step 5/12", "[train_weak] step 10/12",
        "[train_weak] step 12/12"]
    assert lines[1].startswith("[train_weak] step 5/12  loss 8  recon 7  KL 0.5  k_hat 3  ")
    assert " steps/s  ETA " in lines[1] and lines[-1].endswith("ETA 0s") and "tau" not in lines[0]
    assert progress.format_duration(95) == "1m35s" and progress.format_duration(4000) == "1h06m"


def test_progress_hook_shows_a_step_read_twice_once():
    """The step is fetched beside the train op and may be read after its update: two runs then
    report the same step (this divided by a zero rate before)."""
    lines = []
    with tf.Graph().as_default():
        hook = progress.ProgressHook({"loss": tf.constant(1.)}, every_n_steps=5, last_step=12,
                                     write=lines.append)
        for step in (0, 4, 4, 9):
            hook.after_run(None, tf.train.SessionRunValues(
                results={"loss": 1., "step": step}, options=None, run_metadata=None))
    assert [line.split("  ")[0] for line in lines] == [
        "[train_weak] step 1/12", "[train_weak] step 5/12", "[train_weak] step 10/12"]


def test_disentanglement_lib_tools_run_on_our_run(tmp_path):
    run = str(tmp_path / "hg")
    weak_training.train_with_gin(run, False, ["base", "hg", "procedural", "cpu_small"],
                                 TINY + ["visualizations.num_animations = 0"])

    def dlib(*args):
        subprocess.run([os.path.join(SCRIPTS, "mvhg_dlib"), *args], check=True,
                       capture_output=True, env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))

    sampled, mig = os.path.join(run, "postprocessed", "sampled"), str(tmp_path / "mig")
    dlib("postprocess", f"--model_dir={run}", f"--output_dir={sampled}",
         "--gin_bindings=postprocess.postprocess_fn = @sampled_representation",
         '--gin_bindings=dataset.name = "auto"', "--gin_bindings=postprocess.random_seed = 0")
    dlib("dlib_evaluate", f"--input_dir={sampled}", f"--output_dir={mig}",
         "--gin_bindings=evaluation.evaluation_fn = @mig", '--gin_bindings=dataset.name = "auto"',
         "--gin_bindings=evaluation.random_seed = 0", "--gin_bindings=mig.num_train = 100",
         "--gin_bindings=discretizer.discretizer_fn = @histogram_discretizer",
         "--gin_bindings=discretizer.num_bins = 20")
    with open(os.path.join(mig, "results", "json", "evaluation_results.json"),
              encoding="utf-8") as handle:
        assert 0. <= json.load(handle)["discrete_mig"] <= 1.
    dlib("visualize_model", f"--model_dir={run}", f"--output_dir={tmp_path / 'vis'}")
    for name in ("reconstructions/reconstructions.jpg", "traversals/traversals0.jpg",
                 "animated_traversals/std_gaussian_cycle0.gif"):
        assert os.path.getsize(tmp_path / "vis" / name) > 0, name


def test_mvhg_dlib_names_the_available_tools():
    result = subprocess.run([os.path.join(SCRIPTS, "mvhg_dlib"), "no_such_tool"],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 2 and "no dlib_no_such_tool in" in result.stderr
    assert "dlib_evaluate, " in result.stderr and "dlib_visualize_model" in result.stderr


def test_the_final_line_says_what_s_hat_means():
    report = dict(s_true=3, s_hat_mean=-1.8, k_hat_mean=8.8, num_factors=7, num_latent=10,
                  mse_s=23.04)
    line = weak_training.describe_s_hat(report)
    assert line.startswith("k_hat = 8.80 of 10 latent dimensions kept per view, so s_hat = F - "
                           "k_hat = 7 - 8.80 = -1.80 shared factors (true s = 3), MSE(s, s_hat) "
                           "= 23.04; s_hat < 0: more dimensions are kept independent than there "
                           "are factors")
    assert "(true s = random per pair)" in weak_training.describe_s_hat(
        dict(report, s_true=-1, s_hat_mean=2.))
    both = weak_training.describe_s_hat(dict(report, s_hat_latent_mean=1.2, mse_s_latent=3.24))
    assert both.endswith("are factors; the paper's s_hat = d - k_hat = 1.20, MSE 3.24")


def test_clustering_command_answers_help_without_tensorflow():
    code = ("import sys\nfrom mvhg_clustering.run import main\ntry:\n    main(['--help'])\n"
            "except SystemExit:\n    pass\nprint('tensorflow' in sys.modules)")
    output = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                            text=True).stdout
    assert output.startswith("usage: ") and "--prior" in output
    assert output.strip().endswith("False")


@pytest.mark.parametrize("verbose, level", [(False, "40 3"), (True, "20 0")])
def test_verbose_brings_back_tensorflow_logs(verbose, level):
    code = ("import os\nfrom disentanglement_ext.train_weak import quiet_tensorflow\n"
            f"quiet_tensorflow({verbose})\nimport tensorflow as tf\n"
            "print(tf.get_logger().level, os.environ['TF_CPP_MIN_LOG_LEVEL'])")
    output = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                            text=True).stdout
    assert output.strip().splitlines()[-1] == level


def test_without_disentanglement_lib_the_command_says_how_to_install_it(tmp_path):
    """The shims need disentanglement_lib; without it the command answers with the install hint
    (as on the modern stack), not with an error from the shims."""
    code = ("import sys\nsys.modules['disentanglement_lib'] = None\n"
            "from disentanglement_ext.train_weak import main\n"
            f"main(['--model_dir', {str(tmp_path / 'run')!r}, '--gin_config', 'base'])\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=False, env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
    assert result.returncode == 2, result.stderr[-2000:]
    assert "no module 'disentanglement_lib'" in result.stderr and "[weak] stack" in result.stderr
