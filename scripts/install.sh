#!/usr/bin/env bash
# Set up everything newsqa needs: a virtual environment in .venv with the project, its test
# tools and the CPU build of torch; and, for the browser tests, Debian's Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3.11}
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3

if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi

pip_args=()
# A CPU wheel of torch 2.13.0 in /opt/wheels, when there is one, is used; pyproject pins that
# version so that pip never swaps in a multi-GB CUDA build.
if [ -d /opt/wheels ]; then
  pip_args+=(--find-links /opt/wheels)
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet "${pip_args[@]}" -e '.[dev,scale]'

# Check that the install took the CPU wheel (a CUDA build would be several GB).
.venv/bin/python - <<'PY'
import torch
build = "CUDA " + torch.version.cuda if torch.version.cuda else "CPU"
print(f"torch {torch.__version__} ({build} build)")
PY

# Headless Chromium for the browser tests (Debian packages; never a browser download).
if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
  else
    echo "note: Chromium is not installed; the browser tests will be skipped." \
         "Install Debian's chromium and chromium-driver (as root) to run them." >&2
  fi
fi
echo "newsqa is installed in .venv"
