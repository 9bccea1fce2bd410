#!/usr/bin/env bash
# Regenerate the executed teaching notebooks notebooks/*.ipynb from their jupytext sources notebooks/*.py.
#   bash scripts/notebooks.sh                  # every notebook, full mode (what is committed)
#   bash scripts/notebooks.sh 03 rover         # only the notebooks whose names start with these
#   bash scripts/notebooks.sh --fast --check   # execute in fast mode (MDPKIT_FAST=1), write nothing
# Options: see `python -m mdpkit.notebooks_build --help`. CI runs tests/notebooks (fast mode + sync check).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
exec .venv/bin/python -m mdpkit.notebooks_build "$@"
