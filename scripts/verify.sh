#!/usr/bin/env bash
# Main job: build/refresh .venv, then run `mdpkit verify` on the built-in default suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
exec .venv/bin/mdpkit verify "$@"
