# Copyright 2026 The tfp-mvhg authors.
# SPDX-License-Identifier: Apache-2.0
"""Weakly-supervised training of one GroupVAE run (LabelVAE, AdaVAE or HGVAE) from gin files.

The gin-configurable `model.*` (`train`) lives here; `mvhg_train_weak`
(`disentanglement_ext.train_weak`) is its command line.

Outputs in DIR (disentanglement_lib's layout): `tf_checkpoint/` (estimator checkpoints: an
interrupted run resumes from the last one), `tfhub/` (TF-Hub module with the `gaussian_encoder`,
`reconstructions` and `decoder` signatures), `results/json/train_results.json` and
`results/gin/train.gin` (disentanglement_lib's results files, with the operative gin config), and
`postprocessed/mean/` and `metrics/mean/NAME/` (disentanglement_lib's own metrics, e.g. MIG and DCI,
`evaluation.DisentanglementLibMetrics`), `evaluation.json` (s_true, s_hat_mean, mse_s, the
downstream scores of `evaluation.evaluate_weak`, the disentanglement_lib metrics) and
`visualizations/` (disentanglement_lib's `visualize_model`, `write_visualizations`).
`gin_config.gin` is the gin config the run was started with: a changed config is refused
(`ConfigError`) unless only `model.training_steps` changed (training then continues from the last
checkpoint) or `--overwrite` starts afresh.

A run is done in stages (`stage_names`): training, export, train_results (the estimator's
evaluation), downstream (`evaluate_weak`), postprocess, metric_NAME per disentanglement_lib metric,
evaluation (`evaluation.json`) and visualizations. Each stage's marker `stages/NAME.json` is written
after its outputs, with the checkpoint step it was done at, so a rerun of a killed run does the
stages that are not done at the latest checkpoint and skips a complete run with an unchanged
config. Training checkpoints every tenth of the steps (at most 1000) and every `CHECKPOINT_SECS`
seconds (`BoundedCheckpointSaverHook`). Every file written here is written whole or not at all
(`files.atomic_write`). Deleting a marker (or a metric's folder) redoes that stage and rebuilds
`evaluation.json`: deleting `stages/train_results.json` and `stages/downstream.json` re-evaluates
a finished run without retraining it; a deleted `evaluation.json` is rebuilt from the markers.
"""

import difflib
import os
import shutil
import tempfile
import time
import tokenize

import gin.tf
import gin.tf.external_configurables  # noqa: F401  (registers @AdamOptimizer etc. for the gin files)
import numpy as np
import tensorflow.compat.v1 as tf

from disentanglement_ext import _shims_required  # noqa: F401  (before disentanglement_lib)
from disentanglement_ext import configs
from disentanglement_ext import evaluation
from disentanglement_ext import files
from disentanglement_ext import pairs

from disentanglement_lib.data.ground_truth import named_data
from disentanglement_lib.methods.unsupervised import gaussian_encoder_model
from disentanglement_lib.utils import results
from disentanglement_lib.visualize import visualize_model

EVALUATION_FILE = "evaluation.json"
CONFIG_FILE = "gin_config.gin"
STAGES_DIR = "stages"
DISTRIBUTIONS = (None, "mirrored")
CHECKPOINT_SECS = 600  # at most this much training is lost to a kill (and 1/10 of the steps)


@gin.configurable("model", module="weak", denylist=["model_dir", "overwrite"])
def train(model_dir, overwrite=False, model=gin.REQUIRED, training_steps=gin.REQUIRED,
          random_seed=gin.REQUIRED, batch_size=gin.REQUIRED, num_shared=-1, eval_steps=100,
          dynamics="exact", distribution=None, devices=None):
    """Trains, exports, evaluates; see the module docstring for the outputs and the stages.

    Args:
      model_dir: output folder.
      overwrite: delete an existing `model_dir` first.
      model: a `GroupVAE` (gin: `model.model = @group_vae()`).
      training_steps: total optimizer steps (a resumed run continues up to this number).
      random_seed: seeds TensorFlow and the pair sampling.
      batch_size: pairs per step.
      num_shared: s, the number of ground-truth factors the two views share (-1: random per pair).
      eval_steps: batches for the estimator's evaluation (s_hat_mean, mse_s, losses).
      dynamics: how pairs are made (`disentanglement_ext.pairs`): "exact" (exactly s shared) or
        "dlib" (disentanglement_lib's `simple_dynamics` with k = F - s: 1 or k factors resampled,
        possibly to the same value); training and evaluation pairs alike.
      distribution: None (one device) or "mirrored": synchronous data-parallel training over
        `devices` with `tf.distribute.MirroredStrategy`, through the estimator's own mechanism
        (`RunConfig(train_distribute=...)`, which the TPUEstimator honours off TPUs; one machine:
        see the README for several); `batch_size` is then the global batch, split evenly
        over the replicas, and the progress line shows the first replica's values. Evaluation,
        export and prediction run on one device.
      devices: with "mirrored", the devices to train on (e.g. `["/gpu:0", "/gpu:1"]`); None: every
        GPU, or the CPU if there is none.

    Returns:
      the evaluation dict (`evaluation.json`), or None if the run was complete.

    Raises:
      ConfigError: a setting or `model_dir` the run cannot start with (before any training).
    """
    if overwrite and tf.gfile.IsDirectory(model_dir):
        shutil.rmtree(model_dir)
    check_model_dir(model_dir)
    changes = config_changes(model_dir, gin.config_str())
    if changes and not all(line[1:].startswith("model.training_steps") for line in changes):
        raise configs.ConfigError(
            f"{model_dir} was started with another gin config ({CONFIG_FILE} there):\n"
            + "\n".join(changes) + "\nUse --overwrite to retrain it from scratch, or another "
            "--model_dir.")
    for name, value in (("training_steps", training_steps), ("batch_size", batch_size),
                        ("eval_steps", eval_steps)):
        if not (isinstance(value, int) and value > 0):
            raise configs.ConfigError(f"model.{name} must be a positive integer, got {value!r}: "
                                      f"bind it with --gin_bindings 'model.{name} = ...'.")
    try:
        dlib_metrics = evaluation.DisentanglementLibMetrics()
        pairs.check_dynamics(dynamics)
    except ValueError as error:
        raise configs.ConfigError(str(error)) from error
    strategy = make_strategy(distribution, devices, batch_size)
    stages = _Stages(model_dir, stage_names(dlib_metrics.metrics))
    if not changes and stages.complete(training_steps):
        print(f"[train_weak] {model_dir} is complete with this gin config; skipping (use "
              "--overwrite to redo).", flush=True)
        return None
    if changes:  # model.training_steps changed: the report is stale
        _remove(os.path.join(model_dir, EVALUATION_FILE))
    dataset = load_dataset()
    try:
        pairs.resolve_num_changed(dataset.num_factors, num_shared=num_shared)
    except ValueError as error:
        raise configs.ConfigError(str(error)) from error
    files.atomic_write(os.path.join(model_dir, CONFIG_FILE), gin.config_str())
    random_state = np.random.RandomState(random_seed)
    train_seed, eval_seed, downstream_seed = (random_state.randint(2**31) for _ in range(3))
    contrib_tpu = tf.estimator.tpu
    run_config = contrib_tpu.RunConfig(
        tf_random_seed=random_seed, keep_checkpoint_max=1, train_distribute=strategy,
        save_checkpoints_steps=checkpoint_every(training_steps),  # (our hook saves them)
        save_summary_steps=max(1, min(100, training_steps // 20)),  # >= 20 points per curve
        tpu_config=contrib_tpu.TPUConfig(iterations_per_loop=max(1, min(500, training_steps))))
    checkpoint_dir = os.path.join(model_dir, "tf_checkpoint")
    estimator = contrib_tpu.TPUEstimator(
        use_tpu=False, model_fn=model.model_fn, model_dir=checkpoint_dir,
        train_batch_size=batch_size, eval_batch_size=batch_size, predict_batch_size=batch_size,
        config=run_config, params={"training_steps": training_steps})
    start = time.time()

    trained = stages.record("training")
    if trained is None or stages.step < training_steps:
        if stages.step < training_steps:
            for stale in (EVALUATION_FILE, "tfhub", "postprocessed", "metrics", "visualizations"):
                _remove(os.path.join(model_dir, stale))
            print(f"[train_weak] training {type(model.aggregation).__name__} on "
                  f"{gin.query_parameter('dataset.name')} for {training_steps} steps -> "
                  f"{model_dir}", flush=True)
            estimator.train(input_fn=pairs.make_input_fn(dataset, train_seed,
                                                         num_shared=num_shared, dynamics=dynamics),
                            max_steps=training_steps,
                            hooks=[BoundedCheckpointSaverHook(
                                checkpoint_dir, checkpoint_every(training_steps),
                                CHECKPOINT_SECS)])
            train_seconds = time.time() - start
            stages.step = checkpoint_step(checkpoint_dir)
        else:  # trained before stage markers, or killed before the marker
            train_seconds = _previous_train_seconds(model_dir, time.time() - start)
        trained = stages.finish("training", dict(train_seconds=train_seconds))

    def export():
        export_path = os.path.join(model_dir, "tfhub")
        _remove(export_path)
        gaussian_encoder_model.export_as_tf_hub(model, list(dataset.observation_shape),
                                                estimator.latest_checkpoint(), export_path)

    def train_results():
        metrics = estimator.evaluate(input_fn=pairs.make_input_fn(
            dataset, eval_seed, num_shared=num_shared, num_batches=eval_steps, dynamics=dynamics))
        metrics = {key: float(value) for key, value in metrics.items()}
        metrics["elapsed_time"] = trained["train_seconds"]
        results.update_result_directory(os.path.join(model_dir, "results"), "train",
                                        dict(metrics))
        return dict(metrics=metrics)

    stages.run("export", export)
    metrics = stages.run("train_results", train_results)["metrics"]
    scores = stages.run("downstream", lambda: dict(scores=evaluation.evaluate_weak(
        estimator, dataset, num_shared, downstream_seed, dynamics=dynamics)))["scores"]
    if dlib_metrics.metrics:
        stages.run("postprocess", lambda: dlib_metrics.postprocess(model_dir, random_seed))
    dlib_scores = {name: stages.run(f"metric_{name}", lambda name=name: dict(
        scores=dlib_metrics.evaluate(model_dir, name, random_seed)))["scores"]
                   for name in dlib_metrics.metrics}
    report = dict(s_true=num_shared, dynamics=dynamics, s_hat_mean=metrics["s_hat_mean"],
                  mse_s=metrics["mse_s"], k_hat_mean=metrics["k_hat_mean"],
                  num_factors=dataset.num_factors,
                  num_latent=gin.query_parameter("encoder.num_latent"),
                  s_hat_latent_mean=metrics["s_hat_latent_mean"],
                  mse_s_latent=metrics["mse_s_latent"], s_pairs_mean=metrics["s_true_mean"],
                  s_pairs_sq_mean=metrics["s_true_sq_mean"],
                  reconstruction_loss=metrics["reconstruction_loss"], elbo=metrics["elbo"],
                  training_steps=training_steps, train_seconds=trained["train_seconds"],
                  aggregation=type(model.aggregation).__name__, **scores,
                  disentanglement_lib=dlib_scores)
    if stages.redone:  # the report of stages done now
        stages.forget("evaluation")
    stages.run("evaluation", lambda: files.atomic_write_json(
        os.path.join(model_dir, EVALUATION_FILE), report))
    report = files.read_json(os.path.join(model_dir, EVALUATION_FILE))
    # Last: disentanglement_lib's visualize clears the gin config.
    stages.run("visualizations", lambda: write_visualizations(
        model_dir, observation_shape=dataset.observation_shape))
    print(f"[train_weak] done in {time.time() - start:.0f} s: {describe_s_hat(report)}",
          flush=True)
    return report


def make_strategy(distribution, devices, batch_size):
    """The `tf.distribute` strategy of `model.distribution` and `model.devices` (None for none).

    Raises:
      ConfigError: an unknown `distribution`, `devices` that are not this machine's (or given
        without a distribution), or a `batch_size` that the replicas cannot share evenly.
    """
    if distribution not in DISTRIBUTIONS:
        raise configs.ConfigError(f"model.distribution must be one of {DISTRIBUTIONS}, got "
                                  f"{distribution!r}.")
    if distribution is None:
        if devices is not None:
            raise configs.ConfigError('model.devices needs model.distribution = "mirrored".')
        return None
    if devices is not None and not (isinstance(devices, (list, tuple)) and devices):
        raise configs.ConfigError(f'model.devices must be a non-empty list of device names such as '
                                  f'["/gpu:0", "/gpu:1"], got {devices!r}.')
    try:
        # Made for a session, where the estimator runs it, it reduces over CPU devices on one
        # device; made eagerly it picks collective ops, which hung in the estimator's session on
        # two logical CPU devices here (2 cores).
        with tf.Graph().as_default():
            strategy = tf.distribute.MirroredStrategy(devices)
    except ValueError as error:  # a name that does not parse
        raise configs.ConfigError(f"model.devices = {devices!r}: {error}") from error
    known = [device.name for device in tf.config.list_logical_devices()]
    unknown = [device for device in strategy.extended.worker_devices
               if not device.endswith(tuple(known))]
    if unknown:
        raise configs.ConfigError(f"model.devices = {devices!r}: this machine has no "
                                  f"{', '.join(unknown)} (it has {', '.join(known)}).")
    if batch_size % strategy.num_replicas_in_sync:
        raise configs.ConfigError(
            f"model.batch_size = {batch_size} cannot be split evenly over the "
            f"{strategy.num_replicas_in_sync} replicas of model.distribution = {distribution!r}.")
    return strategy


def stage_names(metrics):
    """The stages of a run, in order, with disentanglement_lib metrics `metrics`."""
    return (["training", "export", "train_results", "downstream"]
            + (["postprocess"] if metrics else []) + [f"metric_{name}" for name in metrics]
            + ["evaluation", "visualizations"])


class _Stages:
    """The stage markers of a run: `MODEL_DIR/stages/NAME.json`, written (atomically) after the
    stage's outputs, with the checkpoint step it was done at and what later stages need of it.

    A stage is done if its marker has the step of the latest checkpoint (`step`) and its main
    outputs are there and parse; training also needs `model.training_steps` reached. A run made
    before the markers (no `stages/`) is complete if its evaluation.json parses.
    """

    def __init__(self, model_dir, names):
        self.model_dir, self.names = model_dir, names
        self.step = checkpoint_step(os.path.join(model_dir, "tf_checkpoint"))
        self.redone = False  # whether a stage was done by this process

    def _marker(self, name):
        return os.path.join(self.model_dir, STAGES_DIR, name + ".json")

    def record(self, name):
        """The marker of stage `name` if the stage is done, else None."""
        record = files.read_json(self._marker(name))
        done = isinstance(record, dict) and record.get("step") == self.step
        return record if done and self._outputs_ok(name) else None

    def _outputs_ok(self, name):
        """Whether the main outputs of stage `name` are there (and parse)."""
        if name == "export":
            return os.path.isdir(os.path.join(self.model_dir, "tfhub"))
        if name == "postprocess":
            return files.read_json(os.path.join(
                evaluation.representation_dir(self.model_dir), "results", "json",
                "postprocess_results.json")) is not None
        if name.startswith("metric_"):
            return evaluation.read_scores(evaluation.metric_dir(
                self.model_dir, name[len("metric_"):])) is not None
        if name == "evaluation":
            return isinstance(files.read_json(os.path.join(self.model_dir, EVALUATION_FILE)),
                              dict)
        return True

    def complete(self, training_steps):
        if not os.path.isdir(os.path.join(self.model_dir, STAGES_DIR)):
            return isinstance(files.read_json(os.path.join(self.model_dir, EVALUATION_FILE)), dict)
        return self.step >= training_steps and all(self.record(name) for name in self.names)

    def finish(self, name, record=None):
        """Writes the marker of stage `name` (after the `name` fault point); returns it."""
        record = dict(record or {}, step=self.step)
        self.redone = True
        os.makedirs(os.path.join(self.model_dir, STAGES_DIR), exist_ok=True)
        files.fault_point(name)
        files.atomic_write_json(self._marker(name), record)
        return record

    def forget(self, name):
        _remove(self._marker(name))

    def run(self, name, compute):
        """The marker of stage `name`, doing the stage (`compute()`: None or a dict of results
        for the marker) unless it is done."""
        return self.record(name) or self.finish(name, compute())


def load_dataset():
    """The gin-configured `dataset.name` (disentanglement_lib's `get_named_ground_truth_data`).

    Raises:
      ConfigError: an unknown name, or a disentanglement_lib data set whose files are missing.
    """
    name = gin.query_parameter("dataset.name")
    try:
        return named_data.get_named_ground_truth_data()
    except (OSError, tf.errors.NotFoundError) as error:
        raise configs.ConfigError(
            f"dataset.name = {name!r}: its files are missing "
            f"({configs.without_gin_context(error)}); put disentanglement_lib's "
            f"data (dlib_download_data) under $DISENTANGLEMENT_LIB_DATA (now "
            f"{os.environ.get('DISENTANGLEMENT_LIB_DATA', 'unset')}), or use a data set that needs "
            "no files: --gin_config procedural or --gin_config vector.") from error
    except ValueError as error:
        raise configs.ConfigError(f"dataset.name = {name!r}: "
                                  f"{configs.without_gin_context(error)}") from error


def check_model_dir(model_dir):
    """Raises ConfigError unless `model_dir` is a folder that can be written (made if missing)."""
    if os.path.exists(model_dir) and not os.path.isdir(model_dir):
        raise configs.ConfigError(f"--model_dir {model_dir} is a file: give a folder (it is "
                                  "created if missing).")
    try:
        os.makedirs(model_dir, exist_ok=True)
        with tempfile.TemporaryFile(dir=model_dir):
            pass
    except OSError as error:
        raise configs.ConfigError(f"--model_dir {model_dir}: cannot write there "
                                  f"({error.strerror}); give a folder you can write to.") from error


def checkpoint_every(training_steps):
    """Steps between checkpoints: a tenth of the run, at most 1000."""
    return min(1000, max(1, training_steps // 10))


class StepsOrSecondsTimer(tf.train.SecondOrStepTimer):
    """Triggers every `every_steps` steps, and sooner once `every_secs` seconds have passed since
    the last trigger (TensorFlow's timer takes one of the two)."""

    def __init__(self, every_steps, every_secs):
        super().__init__(every_steps=every_steps)
        self._every_secs_too, self._triggered_at = every_secs, time.time()

    def should_trigger_for_step(self, step):
        if super().should_trigger_for_step(step):
            return True
        return (self.last_triggered_step() not in (None, step)
                and time.time() - self._triggered_at >= self._every_secs_too)

    def update_last_triggered_step(self, step):
        self._triggered_at = time.time()
        return super().update_last_triggered_step(step)


class BoundedCheckpointSaverHook(tf.train.CheckpointSaverHook):
    """TensorFlow's checkpoint hook saving every `save_steps` steps and at most `save_secs`
    seconds apart, so a kill loses little training either way; calls the `checkpoint` fault point
    (`files.fault_point`) after the first checkpoint that holds new steps."""

    def __init__(self, checkpoint_dir, save_steps, save_secs):
        super().__init__(checkpoint_dir, save_steps=save_steps, listeners=[_FaultPoint()])
        self._timer = StepsOrSecondsTimer(save_steps, save_secs)


class _FaultPoint(tf.train.CheckpointSaverListener):
    """`files.fault_point("checkpoint")` after a save past the session's first (its start)."""

    def __init__(self):
        self._first = None

    def after_save(self, session, global_step_value):
        if self._first is None:
            self._first = global_step_value
        elif global_step_value > self._first:
            files.fault_point("checkpoint")


def describe_s_hat(report):
    """One line saying what the run's s_hat and k_hat mean."""
    true_s = "random per pair" if report["s_true"] == -1 else report["s_true"]
    return (f"k_hat = {report['k_hat_mean']:.2f} of {report['num_latent']} latent dimensions kept "
            f"per view, so s_hat = F - k_hat = {report['num_factors']} - "
            f"{report['k_hat_mean']:.2f} = {report['s_hat_mean']:.2f} shared factors (true s = "
            f"{true_s}), MSE(s, s_hat) = {report['mse_s']:.2f}"
            + ("; s_hat < 0: more dimensions are kept independent than there are factors"
               if report["s_hat_mean"] < 0 else "")
            + (f"; the paper's s_hat = d - k_hat = {report['s_hat_latent_mean']:.2f}, "
               f"MSE {report['mse_s_latent']:.2f}" if "mse_s_latent" in report else ""))


@gin.configurable("visualizations", allowlist=["num_animations", "num_frames", "num_points_irs"])
def write_visualizations(model_dir, num_animations=5, num_frames=20, num_points_irs=10000,
                         observation_shape=None):
    """disentanglement_lib's `visualize_model` of the run (its defaults):
    `MODEL_DIR/visualizations/` with reconstructions, latent traversals, their animations and
    interventional effects; nothing if `num_animations` is 0 or the observations
    (`observation_shape`) are not images `[H, W, C]`. Clears the gin config."""
    if num_animations and observation_shape is not None and len(observation_shape) != 3:
        print(f"[train_weak] no visualizations: the observations are not images (shape "
              f"{list(observation_shape)})", flush=True)
    elif num_animations:
        print(f"[train_weak] visualizations -> {os.path.join(model_dir, 'visualizations')}",
              flush=True)
        with gin.unlock_config():  # visualize binds `dataset.name` from the run's train.gin
            visualize_model.visualize(model_dir, os.path.join(model_dir, "visualizations"),
                                      overwrite=True, num_animations=num_animations,
                                      num_frames=num_frames, num_points_irs=num_points_irs)


def checkpoint_step(checkpoint_dir):
    """The global step of the latest checkpoint in `checkpoint_dir` (0 if none)."""
    checkpoint = tf.train.latest_checkpoint(checkpoint_dir)
    return int(tf.train.load_variable(checkpoint, "global_step")) if checkpoint else 0


def _previous_train_seconds(model_dir, default):
    """The training time recorded by the run that trained `model_dir` (`default` if none)."""
    saved = files.read_json(os.path.join(model_dir, "results", "json", "train_results.json"))
    return float(saved.get("elapsed_time", default)) if isinstance(saved, dict) else default


def _remove(path):
    """Deletes file or folder `path` if it exists."""
    if os.path.isdir(path):
        shutil.rmtree(path)
    elif os.path.exists(path):
        os.remove(path)


def config_changes(model_dir, config):
    """The lines (`-old`, `+new`) in which gin config `config` differs from the one `model_dir`
    was started with; empty if they agree or `model_dir` has none."""
    path = os.path.join(model_dir, CONFIG_FILE)
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as handle:
        saved = handle.read()
    diff = difflib.unified_diff(saved.splitlines(), config.splitlines(), lineterm="", n=0)
    return [line for line in diff if line[:1] in "+-" and not line.startswith(("+++", "---"))
            and not line[1:].lstrip().startswith("#")]


def parse_gin(gin_config_files, gin_bindings):
    """Parses gin files (paths or short names, `configs.find_gin_file`) and bindings.

    Raises:
      ConfigError: a missing gin file, a line of a file or a binding that does not parse, or an
        unknown name (with the binding meant).
    """
    paths = [configs.find_gin_file(name) for name in gin_config_files]
    where = None
    try:
        for path in paths:
            where = f"gin file {path}"
            gin.parse_config_file(path)
        for binding in gin_bindings:
            where = f"--gin_bindings {binding!r}"
            gin.parse_config(binding)
        gin.finalize()
    except (SyntaxError, tokenize.TokenError) as error:
        gin.clear_config()
        raise configs.ConfigError(configs.explain_gin_syntax_error(error, where)) from error
    except ValueError as error:
        gin.clear_config()
        raise configs.ConfigError(configs.explain_gin_error(error)) from error


def gin_config_str(gin_config_files, gin_bindings):
    """The gin config (`gin.config_str()`) that these files and bindings give."""
    parse_gin(gin_config_files, gin_bindings)
    try:
        return gin.config_str()
    finally:
        gin.clear_config()


def is_complete(model_dir, gin_config_files, gin_bindings):
    """Whether the run in `model_dir` has every stage done (`_Stages`) with the gin config of these
    files and bindings, unchanged; the config is parsed (`parse_gin`) and cleared."""
    parse_gin(gin_config_files, gin_bindings)
    try:
        if config_changes(model_dir, gin.config_str()):
            return False
        stages = _Stages(model_dir, stage_names(evaluation.DisentanglementLibMetrics().metrics))
        return stages.complete(gin.query_parameter("model.training_steps"))
    except ValueError:  # a setting the run refuses
        return False
    finally:
        gin.clear_config()


def train_with_gin(model_dir, overwrite=False, gin_config_files=(), gin_bindings=()):
    """Parses the gin files and bindings (`parse_gin`), trains one run, clears the gin config."""
    parse_gin(gin_config_files, gin_bindings)
    try:
        return train(model_dir, overwrite)
    finally:
        gin.clear_config()
