#!/usr/bin/env bash
# The README's second command: set up a virtual environment with the test extras and run the
# whole test suite. .ci/run calls this script. Works on a fresh machine that reaches only the
# package registries.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
bash scripts/setup-system.sh
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e '.[test]'
exec .venv/bin/python -m pytest "$@"
