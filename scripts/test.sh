#!/usr/bin/env bash
# Tests: build/refresh .venv, check style, build the docs (strict), then run the default (non-slow) test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
.venv/bin/ruff check mdpkit tests benchmarks proofs examples paper_figures notebooks docs
.venv/bin/ruff format --check mdpkit tests benchmarks proofs examples paper_figures notebooks docs
site=$(mktemp -d)
trap 'rm -rf "$site"' EXIT
NO_MKDOCS_2_WARNING=1 .venv/bin/mkdocs build --strict --quiet --site-dir "$site"
.venv/bin/python -m pytest -q "$@"
