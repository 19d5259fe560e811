#!/usr/bin/env bash
# Install the project into .venv (created if missing; the base install, which is all the demo
# needs) and run a real short campaign: evolve approximations of 2^x on [0, 1] on a local
# Ray-free executor, stored in SQLite (results/automl.db), ending with the Pareto front (cost
# vs. max relative error).
set -euo pipefail
cd "$(dirname "$0")/.."
AUTOML_EXTRAS="" source scripts/setup_venv.sh
exec .venv/bin/automl run configs/autonumerics_exp2.yaml "$@"
