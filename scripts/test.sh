#!/usr/bin/env bash
# Install the project into .venv (created if missing) with every extra and the development
# tools, and run the whole test suite.
#   scripts/test.sh            the whole suite on 2 processes (what CI runs via .ci/run)
#   scripts/test.sh --quick    the development loop: everything but the `slow` and `ray` tests
#   AUTOML_TEST_WORKERS=0 scripts/test.sh ...   in one process (e.g. for -x or --pdb)
# Other arguments go to pytest. PostgreSQL tests use $AUTOML_TEST_PG_URL (default
# postgresql+psycopg://postgres@127.0.0.1:5432/test); with CI set they fail instead of skipping
# when the server is unreachable.
set -euo pipefail
cd "$(dirname "$0")/.."
AUTOML_EXTRAS=all,dev source scripts/setup_venv.sh
# on $AUTOML_TEST_WORKERS processes (pytest-xdist; default 2, 0 = one process): the Ray
# tests stay on one of them (tests/conftest.py)
workers=(-n "${AUTOML_TEST_WORKERS:-2}" --dist loadgroup)
if [ "${1:-}" = "--quick" ]; then
    shift
    exec .venv/bin/python -m pytest "${workers[@]}" -m "not slow and not ray" "$@"
fi
exec .venv/bin/python -m pytest "${workers[@]}" "$@"
