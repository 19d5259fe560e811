#!/usr/bin/env bash
# Batched-evaluation throughput on the GPU vs. the CPU, for the optimizer space and (once it
# exists) the EvoNorm space; prints JSON lines. Made for the lent GPU machine (see
# .library/device/README.md): one short run, under 9 minutes.
#
#   bash scripts/gpu_check.sh --fetch-wheels   # here, with network: the packages the GPU
#                                              # image lacks, as cp312 wheels, into .whl/
#   bash scripts/gpu_check.sh                  # there (carry .whl): install, check, measure
#   bash scripts/gpu_check.sh --cpu-only       # anywhere: the CPU half alone (a dry run)
#
# JAX with CUDA comes from the machine's image (its python3 holds jax and jax-cuda13-plugin;
# those wheels are far over the 64 MiB that may travel); what the image lacks (pydantic,
# moocore and their needs) comes from .whl/, and the project itself is installed from the
# working tree (a minimal dist-info declares its search spaces' entry points). Everything goes
# to a private folder on PYTHONPATH; nothing is installed system-wide.
#
# Each space: a batch of candidates (64 mutants of AdamW for the optimizer space; 8 random
# EvoNorm layers trained 100 steps, as the CPU trains layers one after another) evaluated with
# `space.evaluate` on JAX's default device (must be a GPU; programs then run all at once, see
# automl.batching.resolve_program_batching) and in another process with JAX_PLATFORMS=cpu;
# after compiling, the median of up to 3 timed calls (fewer once they pass 40 s). Then the
# GPU/CPU ratio (the optimizer space's default tasks: the minibatch proxies on MNIST-1D and
# shifted digits), then the language model's batched step time and the GPU tiers' seconds per
# candidate (scripts/bench_optimizer_tiers.py on the GPU; the CPU's are in
# scripts/results/optimizer_tiers_*.jsonl), and (GPU_CHECK_BENCHES=1, the default) the
# compile-once benchmarks on the GPU: scripts/bench_optimizer_eval.py and scripts/bench_evonorm.py --part
# speedup (batched interpreter vs per-candidate jit on the same device), and
# scripts/bench_float32.py (float32 approximations of 2^x vs jnp.exp2 on the GPU). Exits
# non-zero with one line on stderr ("gpu_check: FAILED: ...") when no GPU is visible, a step
# fails, or a step runs past its limit: each has one, and all together end within
# GPU_CHECK_DEADLINE_S (480 s), so it never hangs. GPU_CHECK_ONLY=float32 runs only
# scripts/bench_float32.py on the GPU, with GPU_CHECK_FLOAT32_ARGS (e.g. --program FILE);
# GPU_CHECK_ONLY=evonorm only the EvoNorm steps.
set -uo pipefail

cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
BATCH=${GPU_CHECK_BATCH:-64}
EVONORM_BATCH=${GPU_CHECK_EVONORM_BATCH:-8}
BENCHES=${GPU_CHECK_BENCHES:-1}  # then the compile-once benchmarks on the GPU (0: skip)
REPEATS=${GPU_CHECK_REPEATS:-3}
TIMED_BUDGET=${GPU_CHECK_TIMED_BUDGET_S:-40}  # a half stops repeating past this (s)
SITE=${GPU_CHECK_SITE:-/tmp/gpu_check_site}
WHEELS_DIR=${GPU_CHECK_WHEELS:-.whl}  # carried to the GPU machine
WHEELS_PYTHON=${GPU_CHECK_WHEELS_PYTHON:-3.12}  # the GPU image's python3
DEADLINE=${GPU_CHECK_DEADLINE_S:-480}  # the whole script, from its start (bash's $SECONDS)
LOGS=${OUT:-$(mktemp -d)}  # the device tool brings $OUT back: logs of failed steps land there
# packages the GPU image lacks (its list: .library/device/KINDS.md), pinned to what the
# project's venv runs
WHEELS="pydantic==2.14.4 pydantic-core==2.50.5 annotated-types==0.8.0 typing-inspection==0.4.5
moocore==0.3.2 cffi==2.1.1 pycparser==3.12 platformdirs==4.14.8 typing-extensions==4.16.0
mnist1d==0.0.2.post1"

fail() {
    echo "gpu_check: FAILED: $*" >&2
    exit 1
}

# run NAME SECONDS COMMAND...: stdout passes through (the JSON lines), stderr goes to a log;
# on failure one line says which step, why, and the log's last line. SECONDS is the step's
# limit, cut to what is left of the deadline.
run() {
    local name=$1 seconds=$2 left=$((DEADLINE - SECONDS))
    shift 2
    [ "$left" -lt "$seconds" ] && seconds=$left
    [ "$seconds" -ge 10 ] || fail "$name: not started, the ${DEADLINE}s deadline is (nearly) up"
    timeout --kill-after=10 "$seconds" "$@" 2>"$LOGS/gpu_check_$name.log"
    local status=$?
    if [ "$status" -eq 124 ] || [ "$status" -eq 137 ]; then
        fail "$name: no result after ${seconds}s (log: $LOGS/gpu_check_$name.log)"
    elif [ "$status" -ne 0 ]; then
        fail "$name: exit $status: $(grep -v '^\s*$' "$LOGS/gpu_check_$name.log" | tail -n 1)"
    fi
}

fetch_wheels() {
    mkdir -p "$WHEELS_DIR"
    # shellcheck disable=SC2086  # WHEELS is a list
    "$PYTHON" -m pip download -q --no-deps --only-binary=:all: --python-version "$WHEELS_PYTHON" \
        --implementation cp --platform manylinux_2_28_x86_64 \
        --platform manylinux_2_27_x86_64 --platform manylinux_2_17_x86_64 \
        --platform manylinux2014_x86_64 --platform manylinux1_x86_64 -d "$WHEELS_DIR" $WHEELS \
        || fail "pip download of the wheels failed"
    grep -qx '/.whl/' .gitignore 2>/dev/null || grep -qx '/.whl/' .git/info/exclude \
        || echo /.whl/ >>.git/info/exclude
    du -sh "$WHEELS_DIR"
    echo "now: run 'bash scripts/gpu_check.sh' on the device machine with carry [\".whl\"]"
}

# does this python already run the project with its spaces registered?
ready() {
    timeout 120 "$PYTHON" -c "
from automl.plugins import available_spaces
import jax, pydantic, moocore, xxhash, scipy, sklearn, mnist1d
assert 'optimizers' in available_spaces()" >/dev/null 2>&1
}

install() {
    ready && return 0
    if compgen -G "$WHEELS_DIR/*.whl" >/dev/null; then
        run install_wheels 120 "$PYTHON" -m pip install -q --no-index --no-deps --no-compile \
            --no-cache-dir --upgrade --target "$SITE" "$WHEELS_DIR"/*.whl
    fi
    # the project runs from the working tree; its spaces are entry points of its metadata,
    # so a minimal dist-info declares pyproject.toml's (no build, no setuptools needed)
    run install_project 60 "$PYTHON" -c "$METADATA_PY" "$SITE"
    export PYTHONPATH="$SITE:$PWD${PYTHONPATH:+:$PYTHONPATH}"
    ready || fail "the project does not import after installing (missing packages? run" \
        "'bash scripts/gpu_check.sh --fetch-wheels' where pip works and carry .whl)"
}

# a dist-info for the project in folder argv[1], with pyproject.toml's entry points
read -r -d '' METADATA_PY <<'PY'
import pathlib, sys, tomllib

project = tomllib.loads(pathlib.Path("pyproject.toml").read_text())["project"]
name, version = project["name"], project["version"]
info = pathlib.Path(sys.argv[1]) / f"{name.replace('-', '_')}-{version}.dist-info"
info.mkdir(parents=True, exist_ok=True)
(info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
(info / "entry_points.txt").write_text("".join(
    f"[{group}]\n" + "".join(f"{key} = {target}\n" for key, target in points.items()) + "\n"
    for group, points in project.get("entry-points", {}).items()))
PY

read -r -d '' CHECK_PY <<'PY'
"""One half of the check: `gpu` (JAX's default device, which must be a GPU) or `cpu`."""
import json, os, platform, statistics, sys, time

import jax
import numpy as np

from automl.plugins import available_spaces, get_space

half, batch, repeats, budget = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
evonorm_batch = int(sys.argv[5])
device = jax.devices()[0]
if half == "gpu" and device.platform != "gpu":
    sys.exit(f"no GPU visible to JAX {jax.__version__}: its default device is "
             f"{device.platform} ({device.device_kind}); is a CUDA plugin installed?")
if half == "cpu" and device.platform != "cpu":
    sys.exit(f"JAX_PLATFORMS=cpu still gave {device.platform}")
context = {"half": half, "platform": device.platform, "device": device.device_kind,
           "devices": len(jax.devices()), "jax": jax.__version__, "cpus": os.cpu_count(),
           "machine": platform.machine(), "python": platform.python_version()}


def mutants(space, base, count, seed=0):
    """As scripts/bench_optimizer_eval.py: 1-3 simplified mutations of `base` each."""
    rng = np.random.default_rng(seed)
    programs = []
    while len(programs) < count:
        program = base
        for _ in range(int(rng.integers(1, 4))):
            program = space.simplify(space.mutate(program, rng)[0])[0]
        programs.append(program)
    return programs


def measure(space_name, space, programs):
    start = time.perf_counter()
    space.evaluate(programs[:1])  # compiles batch-of-1 code and any reference run
    warmup = time.perf_counter() - start
    start = time.perf_counter()
    evaluations = space.evaluate(programs)  # compiles the batch-of-`batch` code once
    first = time.perf_counter() - start
    seconds = []
    while len(seconds) < repeats:  # up to `repeats` calls, fewer where one call is slow
        start = time.perf_counter()
        space.evaluate(programs)
        seconds.append(time.perf_counter() - start)
        if sum(seconds) + seconds[-1] > budget:
            break
    errors = [e.error for e in evaluations if e.error]
    whole_batch = [e for e in errors if e.startswith(("batch evaluation raised", "evaluator "))]
    if whole_batch:  # the evaluator itself broke (not a diverging candidate): no figure
        sys.exit(f"{space_name}: {whole_batch[0]}")
    median = statistics.median(seconds)
    print(json.dumps({
        "metric": f"{space_name}_batched_candidates_per_s_{half}",
        "value": round(len(programs) / median, 2), "unit": "candidates/s",
        "candidates": len(programs), "seconds": round(median, 4),
        "runs_seconds": [round(s, 4) for s in seconds],
        "first_call_seconds_with_compile": round(first, 2),
        "warmup_seconds": round(warmup, 2), "failed_candidates": len(errors), **context}),
        flush=True)


spaces = available_spaces()
wanted = sys.argv[6].split(",") if len(sys.argv) > 6 else ["optimizer", "evonorm"]
if "optimizer" in wanted:
    # proxy tasks only, like scripts/bench_optimizer_eval.py
    optimizers = get_space("optimizers", {"funnel_tasks": []})
    measure("optimizer", optimizers, mutants(optimizers, optimizers.adamw, batch))
if "evonorm" in wanted and "evonorm" in spaces:
    # 100 training steps (not the search's 300) and fewer candidates: on the CPU the layer
    # interpreter trains one program after another, so 64 programs would not fit the limits
    evonorm = get_space("evonorm", {"steps": 100})
    batch = min(batch, evonorm_batch)
    rng = np.random.default_rng(0)  # random layers, the search's initial population
    measure("evonorm", evonorm, [evonorm.random(rng) for _ in range(batch)])
elif "evonorm" in wanted and half == "cpu":  # said once, by the half that always runs
    print(json.dumps({"metric": "evonorm_batched_candidates_per_s", "skipped": True,
                      "reason": "no 'evonorm' search space is registered",
                      "spaces": sorted(spaces), "jax": jax.__version__}), flush=True)
PY

# the ratio lines from the two halves' lines
compare() {
    "$PYTHON" -c '
import json, sys
lines = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
rates = {(l["metric"].rsplit("_", 1)[0], l["half"]): l for l in lines if "half" in l}
for (name, half), gpu in rates.items():
    cpu = rates.get((name, "cpu"))
    if half != "gpu" or cpu is None:
        continue
    print(json.dumps({"metric": name.replace("_candidates_per_s", "_gpu_speedup"),
                      "value": round(gpu["value"] / cpu["value"], 2), "unit": "x",
                      "gpu_candidates_per_s": gpu["value"], "cpu_candidates_per_s": cpu["value"],
                      "gpu_device": gpu["device"], "cpu_device": cpu["device"],
                      "candidates": gpu["candidates"], "cpus": cpu["cpus"]}), flush=True)
' "$1"
}

# gpu_step NAME SECONDS ARGS...: python ARGS on the GPU, its JSON lines into the results
gpu_step() {
    local name=$1 seconds=$2
    shift 2
    XLA_PYTHON_CLIENT_PREALLOCATE=false run "$name" "$seconds" "$PYTHON" "$@" \
        | tee -a "$results"
    return "${PIPESTATUS[0]}"
}

main() {
    case "${1:-}" in
        --fetch-wheels) fetch_wheels; return ;;
        --cpu-only) local gpu=0 ;;
        "") local gpu=1 ;;
        *) fail "unknown argument ${1} (use --fetch-wheels, --cpu-only or nothing)" ;;
    esac
    command -v "$PYTHON" >/dev/null || fail "no $PYTHON on the PATH"
    if [ "$gpu" = 1 ]; then  # before installing anything: is there a GPU at all?
        command -v nvidia-smi >/dev/null || fail "no GPU visible: nvidia-smi is not installed"
        local gpus
        gpus=$(timeout 30 nvidia-smi -L 2>/dev/null | grep '^GPU') \
            || fail "no GPU visible: nvidia-smi -L lists none (or did not answer in 30s)"
        "$PYTHON" -c 'import json, sys
gpus = sys.argv[1].splitlines()
print(json.dumps({"metric": "gpu_check_gpus", "value": len(gpus), "unit": "GPUs",
                  "names": [g.split(" (UUID")[0] for g in gpus]}))' "$gpus"
    fi
    install
    results="$LOGS/gpu_check_results.jsonl"  # global: gpu_step appends to it
    : >"$results"
    export PYTHONUNBUFFERED=1
    if [ "${GPU_CHECK_ONLY:-}" = float32 ] && [ "$gpu" = 1 ]; then  # float32 2^x alone
        # shellcheck disable=SC2086  # the arguments are a list
        gpu_step bench_float32 240 scripts/bench_float32.py ${GPU_CHECK_FLOAT32_ARGS:-}
        return 0
    fi
    if [ "${GPU_CHECK_ONLY:-}" = evonorm ] && [ "$gpu" = 1 ]; then  # the EvoNorm GPU steps
        gpu_step gpu_half_evonorm 150 -c "$CHECK_PY" gpu "$BATCH" "$REPEATS" "$TIMED_BUDGET" \
            "$EVONORM_BATCH" evonorm
        gpu_step bench_evonorm 160 scripts/bench_evonorm.py --part speedup --candidates 8 \
            --per-candidate 2
        return 0
    fi
    # most wanted first: each step has a limit, and the deadline cuts whatever comes last
    if [ "$gpu" = 1 ]; then
        gpu_step gpu_half_optimizer 120 -c "$CHECK_PY" gpu "$BATCH" "$REPEATS" \
            "$TIMED_BUDGET" "$EVONORM_BATCH" optimizer || exit 1
        # the language models' step time and the GPU tiers, 16 programs x the default grid
        gpu_step bench_optimizer_tiers 150 scripts/bench_optimizer_tiers.py --candidates 16 \
            --repeats 1 --tasks char_lm char_lm_wide mlp_mnist1d_l cnn_digits_shift_l
        if [ "$BENCHES" = 1 ]; then  # compile once vs per-candidate jit, on the GPU
            gpu_step bench_optimizer_eval 120 scripts/bench_optimizer_eval.py --per-candidate 4
            gpu_step bench_float32 60 scripts/bench_float32.py
        fi
    fi
    JAX_PLATFORMS=cpu run cpu_half 170 \
        "$PYTHON" -c "$CHECK_PY" cpu "$BATCH" "$REPEATS" "$TIMED_BUDGET" "$EVONORM_BATCH" \
        | tee -a "$results"
    [ "${PIPESTATUS[0]}" -eq 0 ] || exit 1
    if [ "$gpu" = 1 ]; then
        gpu_step gpu_half_evonorm 150 -c "$CHECK_PY" gpu "$BATCH" "$REPEATS" "$TIMED_BUDGET" \
            "$EVONORM_BATCH" evonorm
        compare "$results"
        if [ "$BENCHES" = 1 ]; then
            gpu_step bench_evonorm 160 scripts/bench_evonorm.py --part speedup --candidates 8 \
                --per-candidate 2
        fi
    fi
    return 0
}

main "$@"
