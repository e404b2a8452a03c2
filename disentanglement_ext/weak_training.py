"""Weakly-supervised training of one GroupVAE run (LabelVAE, AdaVAE or HGVAE) from gin files.

The gin-configurable `model.*` (`train`) lives here; `python -m disentanglement_ext.train_weak` is
its command line:

    python -m disentanglement_ext.train_weak --model_dir DIR --gin_config gin_configs/base.gin \
        --gin_config gin_configs/hg.gin --gin_config gin_configs/procedural.gin \
        [--gin_config gin_configs/cpu_small.gin] [--gin_bindings "model.num_shared = 3"] [--overwrite]

Outputs in DIR (disentanglement_lib's layout): `tf_checkpoint/` (estimator checkpoints: an
interrupted run resumes from the last one), `tfhub/` (TF-Hub module with the `gaussian_encoder`,
`reconstructions` and `decoder` signatures), `results/json/train_results.json` and
`results/gin/train.gin` (disentanglement_lib's results files, with the operative gin config), and
`postprocessed/mean/` and `metrics/mean/NAME/` (disentanglement_lib's own metrics, e.g. MIG and DCI,
`evaluation.DisentanglementLibMetrics`) and `evaluation.json` (s_true, s_hat_mean, mse_s, the
downstream scores of `evaluation.evaluate_weak`, the disentanglement_lib metrics).
A run whose `evaluation.json` exists is skipped unless `--overwrite`. Deleting `evaluation.json`
re-evaluates a finished run without retraining it (finished metrics are kept).
"""

import json
import os
import shutil
import time

import gin.tf
import gin.tf.external_configurables  # noqa: F401  (registers @AdamOptimizer etc. for the gin files)
import numpy as np
import tensorflow.compat.v1 as tf

from disentanglement_ext import evaluation
from disentanglement_ext import pairs
from disentanglement_lib.data.ground_truth import named_data
from disentanglement_lib.methods.unsupervised import gaussian_encoder_model
from disentanglement_lib.utils import results

EVALUATION_FILE = "evaluation.json"


@gin.configurable("model", module="weak", denylist=["model_dir", "overwrite"])
def train(model_dir, overwrite=False, model=gin.REQUIRED, training_steps=gin.REQUIRED,
          random_seed=gin.REQUIRED, batch_size=gin.REQUIRED, num_shared=-1, eval_steps=100):
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
    """
    if overwrite and tf.gfile.IsDirectory(model_dir):
        shutil.rmtree(model_dir)
    if os.path.exists(os.path.join(model_dir, EVALUATION_FILE)):
        print(f"[train_weak] {model_dir} is complete; skipping (use --overwrite to redo).",
              flush=True)
        return None
    dlib_metrics = evaluation.DisentanglementLibMetrics()  # ValueError if bad, before training
    dataset = named_data.get_named_ground_truth_data()
    pairs.resolve_num_changed(dataset.num_factors, num_shared=num_shared)  # ValueError if bad
    random_state = np.random.RandomState(random_seed)
    contrib_tpu = tf.estimator.tpu
    run_config = contrib_tpu.RunConfig(
        tf_random_seed=random_seed, keep_checkpoint_max=1,
        save_checkpoints_steps=max(1, min(1000, training_steps)),
        tpu_config=contrib_tpu.TPUConfig(iterations_per_loop=max(1, min(500, training_steps))))
    estimator = contrib_tpu.TPUEstimator(
        use_tpu=False, model_fn=model.model_fn, model_dir=os.path.join(model_dir, "tf_checkpoint"),
        train_batch_size=batch_size, eval_batch_size=batch_size, predict_batch_size=batch_size,
        config=run_config)
    start = time.time()
    step_before = _checkpoint_step(estimator)
    print(f"[train_weak] training {type(model.aggregation).__name__} on "
          f"{gin.query_parameter('dataset.name')} for {training_steps} steps -> {model_dir}",
          flush=True)
    estimator.train(input_fn=pairs.make_input_fn(dataset, random_state.randint(2**31),
                                                 num_shared=num_shared),
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
        dataset, random_state.randint(2**31), num_shared=num_shared, num_batches=eval_steps))
    metrics = {key: float(value) for key, value in metrics.items()}
    metrics["elapsed_time"] = train_seconds
    results.update_result_directory(os.path.join(model_dir, "results"), "train", metrics)

    scores = evaluation.evaluate_weak(estimator, dataset, num_shared,
                                      random_state.randint(2**31))
    dlib_scores = dlib_metrics(model_dir, random_seed)
    num_latent = gin.query_parameter("encoder.num_latent")
    report = dict(s_true=num_shared, s_hat_mean=metrics["s_hat_mean"], mse_s=metrics["mse_s"],
                  k_hat_mean=metrics["k_hat_mean"], num_factors=dataset.num_factors,
                  num_latent=num_latent, s_hat_latent_mean=num_latent - metrics["k_hat_mean"],
                  reconstruction_loss=metrics["reconstruction_loss"], elbo=metrics["elbo"],
                  training_steps=training_steps, train_seconds=train_seconds,
                  aggregation=type(model.aggregation).__name__, **scores,
                  disentanglement_lib=dlib_scores)
    with open(os.path.join(model_dir, EVALUATION_FILE), "w", encoding="utf-8") as handle:
        json.dump(report, handle, indent=2)
    print(f"[train_weak] done in {time.time() - start:.0f} s: s_hat_mean = "
          f"{report['s_hat_mean']:.2f} (s = {num_shared}), mse_s = {report['mse_s']:.2f}",
          flush=True)
    return report


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


def train_with_gin(model_dir, overwrite=False, gin_config_files=(), gin_bindings=()):
    """Parses the gin files and bindings, trains one run, clears the gin config."""
    gin.parse_config_files_and_bindings(list(gin_config_files), list(gin_bindings))
    try:
        return train(model_dir, overwrite)
    finally:
        gin.clear_config()
