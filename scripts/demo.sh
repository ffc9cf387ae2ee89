#!/usr/bin/env bash
# The README's first command: install synthguard with its media extras and run the main job,
# a scan of sample media that synthguard generates itself, printing the table and writing
# synthguard-demo/report.html and synthguard-demo/report.jsonl.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
bash scripts/setup-system.sh
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e '.[all]'
exec .venv/bin/synthguard demo "$@"
