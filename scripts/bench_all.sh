#!/usr/bin/env bash
# Run every benchmark (scripts/bench_*.py) and write BENCHMARKS.md from what they print.
#
#   bash scripts/bench_all.sh            # the report: ~90 minutes on 2 cores
#   bash scripts/bench_all.sh --quick    # a ~5-minute smoke run of the same scripts, smaller
#   bash scripts/bench_all.sh --out DIR  # where the JSON lines and logs go (default
#                                        # results/bench/<date>), BENCHMARKS.md at the root
#
# Each benchmark prints one JSON line per figure (medians over its own repeats, spreads and
# side-by-side ratios computed inside one run); this script keeps those lines per benchmark
# (<name>.jsonl, stderr in <name>.log), records the machine and every command with its wall
# time and exit status, and hands the directory to scripts/benchmarks_report.py. A benchmark
# that fails or overruns its time limit is reported as such; the others still run.
# PostgreSQL figures need the server of the test suite (127.0.0.1:5432, user postgres).
set -uo pipefail
cd "$(dirname "$0")/.."

quick=0
out=""
report="BENCHMARKS.md"
while [ $# -gt 0 ]; do
    case "$1" in
        --quick) quick=1; shift ;;
        --out) out="$2"; shift 2 ;;
        --report) report="$2"; shift 2 ;;
        *) echo "usage: bash scripts/bench_all.sh [--quick] [--out DIR] [--report FILE]" >&2
           exit 2 ;;
    esac
done
if [ -z "$out" ]; then
    out="results/bench/$(date -u +%Y-%m-%dT%H%M%SZ)$([ $quick = 1 ] && echo -quick)"
fi
mkdir -p "$out"
python=".venv/bin/python"
[ -x "$python" ] || { echo "no .venv: run bash scripts/setup_venv.sh first" >&2; exit 1; }
# the peer benchmarks need gplearn, DEAP, pyoperon and Optuna: without them a run loses those
# figures
"$python" -c "import gplearn, deap, pyoperon, optuna" 2>/dev/null || {
    echo "the peer benchmarks need the bench extra: .venv/bin/pip install -e '.[bench]'" >&2
    exit 1; }

command_line="bash scripts/bench_all.sh$([ $quick = 1 ] && echo ' --quick')"
"$python" - "$out/machine.json" "$command_line" <<'EOF'
import json, os, platform, subprocess, sys
import jax, numpy, ray, sqlalchemy

def run(*args):
    try:
        return subprocess.run(args, capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""

cpu = next((line.split(":", 1)[1].strip() for line in run("lscpu").splitlines()
            if line.startswith("Model name")), platform.processor())
memory = next((int(line.split()[1]) // 1024 for line in open("/proc/meminfo")
               if line.startswith("MemTotal")), None)
json.dump({"command": sys.argv[2], "date": run("date", "-u", "+%Y-%m-%d %H:%M UTC"),
           "commit": run("git", "rev-parse", "--short", "HEAD"),
           "cpu": cpu, "cores": os.cpu_count(), "memory_mib": memory,
           "os": platform.platform(), "python": platform.python_version(),
           "jax": jax.__version__, "jax_device": str(jax.devices()[0]),
           "numpy": numpy.__version__, "ray": ray.__version__,
           "sqlalchemy": sqlalchemy.__version__}, open(sys.argv[1], "w"), indent=1)
EOF
printf 'name\tcommand\tseconds\tstatus\n' > "$out/commands.tsv"

# run NAME LIMIT_SECONDS ARGS...: one benchmark, its JSON lines to $out/NAME.jsonl
run() {
    local name="$1" limit="$2"
    shift 2
    local start end status
    echo "== $name: $*" >&2
    start=$(date +%s)
    timeout "$limit" "$python" "$@" > "$out/$name.jsonl" 2> "$out/$name.log"
    status=$?
    end=$(date +%s)
    local shown="python" arg
    for arg in "$@"; do  # quote what a shell would split, so the report's command re-runs
        case "$arg" in *[[:space:]]*) shown+=" \"$arg\"" ;; *) shown+=" $arg" ;; esac
    done
    printf '%s\t%s\t%s\t%s\n' "$name" "$shown" "$((end - start))" "$status" >> "$out/commands.tsv"
    echo "   $((end - start)) s, exit status $status" >&2
}

if [ $quick = 1 ]; then
    run fec_autonumerics 120 scripts/bench_fec.py --space autonumerics --candidates 600 --seeds 3 --batch-size 16 \
        --agreement-sample 20
    run fec_optimizers 180 scripts/bench_fec.py --space optimizers --candidates 96 --population 32 --batch-size 32 --seeds 3 \
        --agreement-sample 10 --settings "{tasks: [logreg_digits], learning_rates: [0.01], funnel_tasks: []}"
    run fec_evonorm 150 scripts/bench_fec.py --space evonorm --candidates 32 --population 16 --seeds 1 \
        --agreement-sample 4
    run collisions 90 scripts/bench_collisions.py --candidates 500 --check-groups 20
    run pipeline 90 scripts/bench_pipeline.py --candidates 2000 --repeats 1 --skip-ray \
        --overhead-candidates 600 --overhead-configs demo
    run memory 150 scripts/bench_memory.py --candidates 10000 50000 --memory-entries 2000
    run store 90 scripts/bench_store.py --rows 10000 --optuna-trials 200 --repeats 1
    run store_controller 90 scripts/bench_store.py --rows 10000 --repeats 1 --skip-optuna --shape controller
    run cli 60 scripts/bench_cli.py --repeats 3
    run queries 90 scripts/bench_queries.py --evaluations 20000 --repeats 2
    run fitting 60 scripts/bench_fitting.py --repeats 1 --cma-budgets 2000
    run float32 60 scripts/bench_float32.py --degrees 6 --points 10000 --repeats 50 --check-points 1000000
    run autonumerics_peers 90 scripts/bench_autonumerics.py --seconds 10
    run multiobjective 60 scripts/bench_multiobjective.py --evaluations 500 --seeds 1
else  # time limits: the slowest seen plus a margin (all together ~110 min at worst)
    run fec_autonumerics 300 scripts/bench_fec.py --space autonumerics --candidates 2000 --population 100 --seeds 3 \
        --batch-size 16
    # the issue's setting: 10,000 candidates, the cached search alone (~6 min; with the uncached
    # one beside it, ~16 min per seed)
    run fec_optimizers 600 scripts/bench_fec.py --space optimizers --candidates 10000 --population 100 --batch-size 64 \
        --skip-uncached --settings "{tasks: [logreg_digits], learning_rates: [0.001, 0.01], funnel_tasks: []}"
    # the same with the Lion search's restarts from the best (configs/lion_digits.yaml's)
    run fec_optimizers_restart 600 scripts/bench_fec.py --space optimizers --candidates 10000 --population 100 \
        --batch-size 64 --skip-uncached --restart-after 500 \
        --settings "{tasks: [logreg_digits], learning_rates: [0.001, 0.01], funnel_tasks: []}"
    run fec_evonorm 600 scripts/bench_fec.py --space evonorm --candidates 300 --population 32 --seeds 3 --batch-size 16 \
        --agreement-sample 20
    run collisions 120 scripts/bench_collisions.py
    # the overhead fraction: the demo's settings 3 times, the hour search's (an evaluation
    # ~0.2 s) twice, 3,000 candidates each
    run pipeline 1200 scripts/bench_pipeline.py --candidates 20000 --repeats 3 --overhead-candidates 3000 \
        --overhead-repeats 2
    # flat memory over 10^6 candidates (~20 min on a busy core)
    run memory 2400 scripts/bench_memory.py --candidates 100000 1000000
    run scaling 360 scripts/bench_scaling.py --repeats 2
    run optimizer_eval 240 scripts/bench_optimizer_eval.py --candidates 64 --per-candidate 4
    run evonorm 360 scripts/bench_evonorm.py --candidates 16 --per-candidate 2
    run store 180 scripts/bench_store.py
    run store_controller 180 scripts/bench_store.py --skip-optuna --shape controller
    run cli 120 scripts/bench_cli.py
    run queries 300 scripts/bench_queries.py
    run fitting 90 scripts/bench_fitting.py
    run float32 90 scripts/bench_float32.py
    run autonumerics_peers 330 scripts/bench_autonumerics.py --seconds 60
    run multiobjective 150 scripts/bench_multiobjective.py
fi

"$python" scripts/benchmarks_report.py "$out" --out "$report"
