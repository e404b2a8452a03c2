#!/usr/bin/env bash
# Create or refresh a virtual environment from a pinned requirements file, idempotently.
# Usage: scripts/setup_env.sh ENV_DIR REQUIREMENTS_TXT [EXTRA_NO_DEPS_PACKAGE...]
# A stamp (hash of the inputs) inside ENV_DIR makes a second call with unchanged inputs a no-op.
set -euo pipefail
cd "$(dirname "$0")/.."
env_dir=$1; requirements=$2; shift 2
stamp="$env_dir/.tfp_mvhg_stamp"
want=$(cat "$requirements" pyproject.toml "$0" | sha256sum | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi
if [ ! -x .tools/bin/uv ]; then
  echo "[setup] installing uv into .tools/" >&2
  python3 -m venv .tools
  .tools/bin/python -m pip install --quiet --disable-pip-version-check uv==0.13.8
fi
echo "[setup] building $env_dir from $requirements" >&2
.tools/bin/uv venv --quiet --clear --python "$(command -v python3)" "$env_dir"
.tools/bin/uv pip install --quiet --python "$env_dir/bin/python" -r "$requirements"
if [ $# -gt 0 ]; then
  .tools/bin/uv pip install --quiet --python "$env_dir/bin/python" --no-deps "$@"
fi
# An editable install of the package gives the console commands (mvhg_train_weak, ...); the
# repository root also goes on the path through a .pth file, for tests/, experiments/, benchmarks/.
.tools/bin/uv pip install --quiet --python "$env_dir/bin/python" --no-deps --no-build-isolation -e .
site_packages=$("$env_dir/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
pwd > "$site_packages/tfp_mvhg_repository.pth"
echo "$want" > "$stamp"
