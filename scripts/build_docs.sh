#!/usr/bin/env bash
# API reference from the docstrings (pdoc, Google style) into build/docs/; fails on any warning.
# tfp_mvhg.internal.distribution_base is listed so that the members the distributions inherit from
# their private base (num_per_class, log_normalizer, ...) link to their documentation.
set -euo pipefail
cd "$(dirname "$0")/.."
# TensorFlow's C++ start-up messages ("TF-TRT Warning: ...") are not pdoc's: keep them out.
export TF_CPP_MIN_LOG_LEVEL=3
rm -rf build/docs
# disentanglement_ext's modules that use disentanglement_lib need its shims, installed first.
log=$(PDOC_ALLOW_EXEC=1 .venv/bin/python -c '
import runpy, sys
import disentanglement_ext
disentanglement_ext.install_compat()
sys.argv = ["pdoc"] + sys.argv[1:]
runpy.run_module("pdoc", run_name="__main__")
' --docformat google -o build/docs tfp_mvhg tfp_mvhg.internal.distribution_base disentanglement_ext \
  mvhg_clustering 2>&1)
if grep -qi "warn" <<< "$log"; then
  echo "$log" >&2
  echo "[docs] pdoc reported warnings (above)" >&2
  exit 1
fi
echo "[docs] API reference: build/docs/index.html"
