#!/usr/bin/env bash
# Install the project into .venv (created if missing) and run the whole test suite.
# PostgreSQL tests use $AUTOML_TEST_PG_URL (default postgresql+psycopg://postgres@127.0.0.1:5432/test);
# with CI set they fail instead of skipping when the server is unreachable.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup_venv.sh
exec .venv/bin/python -m pytest "$@"
