#!/usr/bin/env bash
# Tests: build/refresh .venv, check style, then run the default (non-slow) test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
.venv/bin/ruff check mdpkit tests benchmarks proofs examples paper_figures
.venv/bin/ruff format --check mdpkit tests benchmarks proofs examples paper_figures
exec .venv/bin/python -m pytest -q "$@"
