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
`gin_config.gin` is the gin config the run was started with: a run whose `evaluation.json` exists
is skipped if its config is unchanged; a changed config is refused (`ConfigError`) unless only
`model.training_steps` changed (training then continues from the last checkpoint) or `--overwrite`
starts afresh. Deleting `evaluation.json` re-evaluates a finished run without retraining it
(finished metrics are kept).
"""

import difflib
import json
import os
import shutil
import time

import gin.tf
import gin.tf.external_configurables  # noqa: F401  (registers @AdamOptimizer etc. for the gin files)
import numpy as np
import tensorflow.compat.v1 as tf

from disentanglement_ext import configs
from disentanglement_ext import evaluation
from disentanglement_ext import pairs
from disentanglement_lib.data.ground_truth import named_data
from disentanglement_lib.methods.unsupervised import gaussian_encoder_model
from disentanglement_lib.utils import results
from disentanglement_lib.visualize import visualize_model

EVALUATION_FILE = "evaluation.json"
CONFIG_FILE = "gin_config.gin"


@gin.configurable("model", module="weak", denylist=["model_dir", "overwrite"])
def train(model_dir, overwrite=False, model=gin.REQUIRED, training_steps=gin.REQUIRED,
          random_seed=gin.REQUIRED, batch_size=gin.REQUIRED, num_shared=-1, eval_steps=100,
          dynamics="exact"):
    """Trains, exports, evaluates; see the module docstring for the outputs.

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
    """
    if overwrite and tf.gfile.IsDirectory(model_dir):
        shutil.rmtree(model_dir)
    changes = config_changes(model_dir, gin.config_str())
    if changes and not all(line[1:].startswith("model.training_steps") for line in changes):
        raise configs.ConfigError(
            f"{model_dir} was started with another gin config ({CONFIG_FILE} there):\n"
            + "\n".join(changes) + "\nUse --overwrite to retrain it from scratch, or another "
            "--model_dir.")
    if os.path.exists(os.path.join(model_dir, EVALUATION_FILE)):
        if not changes:
            print(f"[train_weak] {model_dir} is complete with this gin config; skipping (use "
                  "--overwrite to redo).", flush=True)
            return None
        os.remove(os.path.join(model_dir, EVALUATION_FILE))  # stale: training continues
    dlib_metrics = evaluation.DisentanglementLibMetrics()  # ValueError if bad, before training
    dataset = named_data.get_named_ground_truth_data()
    pairs.resolve_num_changed(dataset.num_factors, num_shared=num_shared)  # ValueError if bad
    pairs.check_dynamics(dynamics)
    os.makedirs(model_dir, exist_ok=True)
    with open(os.path.join(model_dir, CONFIG_FILE), "w", encoding="utf-8") as handle:
        handle.write(gin.config_str())
    random_state = np.random.RandomState(random_seed)
    contrib_tpu = tf.estimator.tpu
    run_config = contrib_tpu.RunConfig(
        tf_random_seed=random_seed, keep_checkpoint_max=1,
        save_checkpoints_steps=max(1, min(1000, training_steps)),
        save_summary_steps=max(1, min(100, training_steps // 20)),  # >= 20 points per curve
        tpu_config=contrib_tpu.TPUConfig(iterations_per_loop=max(1, min(500, training_steps))))
    estimator = contrib_tpu.TPUEstimator(
        use_tpu=False, model_fn=model.model_fn, model_dir=os.path.join(model_dir, "tf_checkpoint"),
        train_batch_size=batch_size, eval_batch_size=batch_size, predict_batch_size=batch_size,
        config=run_config, params={"training_steps": training_steps})
    start = time.time()
    step_before = _checkpoint_step(estimator)
    print(f"[train_weak] training {type(model.aggregation).__name__} on "
          f"{gin.query_parameter('dataset.name')} for {training_steps} steps -> {model_dir}",
          flush=True)
    estimator.train(input_fn=pairs.make_input_fn(dataset, random_state.randint(2**31),
                                                 num_shared=num_shared, dynamics=dynamics),
                    max_steps=training_steps)
    train_seconds = time.time() - start
    if step_before >= training_steps:  # already trained: re-evaluation only
        train_seconds = _previous_train_seconds(model_dir, train_seconds)
    else:  # the model changed: representations and metrics of an older checkpoint are stale
        for stale in ("postprocessed", "metrics"):
            if tf.gfile.IsDirectory(os.path.join(model_dir, stale)):
                tf.gfile.DeleteRecursively(os.path.join(model_dir, stale))

    export_path = os.path.join(model_dir, "tfhub")
    if tf.gfile.IsDirectory(export_path):  # left by an interrupted run: export the latest again
        tf.gfile.DeleteRecursively(export_path)
    gaussian_encoder_model.export_as_tf_hub(model, list(dataset.observation_shape),
                                            estimator.latest_checkpoint(), export_path)
    metrics = estimator.evaluate(input_fn=pairs.make_input_fn(
        dataset, random_state.randint(2**31), num_shared=num_shared, num_batches=eval_steps,
        dynamics=dynamics))
    metrics = {key: float(value) for key, value in metrics.items()}
    metrics["elapsed_time"] = train_seconds
    results.update_result_directory(os.path.join(model_dir, "results"), "train", metrics)

    scores = evaluation.evaluate_weak(estimator, dataset, num_shared,
                                      random_state.randint(2**31), dynamics=dynamics)
    dlib_scores = dlib_metrics(model_dir, random_seed)
    num_latent = gin.query_parameter("encoder.num_latent")
    report = dict(s_true=num_shared, dynamics=dynamics, s_hat_mean=metrics["s_hat_mean"],
                  mse_s=metrics["mse_s"], k_hat_mean=metrics["k_hat_mean"],
                  num_factors=dataset.num_factors, num_latent=num_latent,
                  s_hat_latent_mean=metrics["s_hat_latent_mean"],
                  mse_s_latent=metrics["mse_s_latent"], s_pairs_mean=metrics["s_true_mean"],
                  s_pairs_sq_mean=metrics["s_true_sq_mean"],
                  reconstruction_loss=metrics["reconstruction_loss"], elbo=metrics["elbo"],
                  training_steps=training_steps, train_seconds=train_seconds,
                  aggregation=type(model.aggregation).__name__, **scores,
                  disentanglement_lib=dlib_scores)
    with open(os.path.join(model_dir, EVALUATION_FILE), "w", encoding="utf-8") as handle:
        json.dump(report, handle, indent=2)
    # Last: disentanglement_lib's visualize clears the gin config.
    write_visualizations(model_dir, observation_shape=dataset.observation_shape)
    print(f"[train_weak] done in {time.time() - start:.0f} s: {describe_s_hat(report)}",
          flush=True)
    return report


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
    """disentanglement_lib's `visualize_model` of the run (its defaults): `MODEL_DIR/visualizations/`
    with reconstructions, latent traversals, their animations and interventional effects; nothing
    if `num_animations` is 0 or the observations (`observation_shape`) are not images
    `[H, W, C]`. Clears the gin config."""
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


def _checkpoint_step(estimator):
    """The global step of the estimator's latest checkpoint (0 if none)."""
    checkpoint = estimator.latest_checkpoint()
    return int(tf.train.load_variable(checkpoint, "global_step")) if checkpoint else 0


def _previous_train_seconds(model_dir, default):
    """The training time recorded by the run that trained `model_dir` (`default` if none)."""
    path = os.path.join(model_dir, "results", "json", "train_results.json")
    if not os.path.exists(path):
        return default
    with open(path, encoding="utf-8") as handle:
        return float(json.load(handle).get("elapsed_time", default))


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
      ConfigError: a missing gin file, or an unknown name (with the binding meant).
    """
    files = [configs.find_gin_file(name) for name in gin_config_files]
    try:
        gin.parse_config_files_and_bindings(files, list(gin_bindings))
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


def train_with_gin(model_dir, overwrite=False, gin_config_files=(), gin_bindings=()):
    """Parses the gin files and bindings (`parse_gin`), trains one run, clears the gin config."""
    parse_gin(gin_config_files, gin_bindings)
    try:
        return train(model_dir, overwrite)
    finally:
        gin.clear_config()
