#!/usr/bin/env bash
# Create .venv if missing and install the project with its dev extras (sourced by the
# quick-start scripts, run from the repository root).
if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e ".[dev]"
