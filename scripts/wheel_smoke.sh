#!/usr/bin/env bash
# Builds the sdist and, from it, the wheel, then tests both install routes of the README outside
# the repository: (1) the wheel with its dependencies (the modern stack, pinned by
# requirements/modern.txt as constraints), running scripts/smoke_installed.py in isolated mode;
# (2) the [weak] route (requirements/main.txt, then disentanglement-lib 1.5 and the wheel with
# --no-deps), running a tiny HGVAE training with the installed command and shipped gin files.
set -euo pipefail
cd "$(dirname "$0")/.."
out=build/wheel_smoke
rm -rf "$out"
.tools/bin/uv build --quiet --out-dir "$out/dist" .
.tools/bin/uv venv --quiet --python "$(command -v python3)" "$out/venv"
.tools/bin/uv pip install --quiet --python "$out/venv/bin/python" -c requirements/modern.txt \
  "$out"/dist/*.whl
cp scripts/smoke_installed.py "$out/"
(cd "$out" && venv/bin/python -I smoke_installed.py)

.tools/bin/uv venv --quiet --python "$(command -v python3)" "$out/weak"
.tools/bin/uv pip install --quiet --python "$out/weak/bin/python" -r requirements/main.txt
.tools/bin/uv pip install --quiet --python "$out/weak/bin/python" --no-deps \
  disentanglement-lib==1.5 "$out"/dist/*.whl
cd "$out"
log=$(weak/bin/mvhg_train_weak --model_dir weak_run --gin_config base --gin_config hg \
  --gin_config hg_per_dimension --gin_config vector --gin_bindings "model.training_steps = 2" \
  --gin_bindings "model.batch_size = 8" --gin_bindings "model.eval_steps = 1" \
  --gin_bindings "evaluate_weak.num_train = 100" --gin_bindings "evaluate_weak.num_test = 50" \
  --gin_bindings "dlib_metrics.metrics = []" --gin_bindings "visualizations.num_animations = 0" 2>&1)
echo "$log"
test -f weak_run/evaluation.json
# Quiet by default: only the run's own lines (start, one per logged step, done), no TF logs.
if grep -qv '^\[train_weak\] ' <<< "$log" || [ "$(wc -l <<< "$log")" -ne 4 ]; then
  echo "[weak] route: expected the 4 lines of a quiet run" >&2
  exit 1
fi
echo "[weak] route: a run trained, exported and evaluated from the installed wheel"
