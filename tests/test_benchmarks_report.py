"""scripts/benchmarks_report.py turns bench_all.sh's run directory into BENCHMARKS.md."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "benchmarks_report.py"


def test_report_keeps_values_spreads_failures_and_gpu_lines(tmp_path: Path) -> None:
    run = tmp_path / "run"
    run.mkdir()
    (run / "machine.json").write_text(json.dumps({"command": "bash scripts/bench_all.sh",
                                                  "cpu": "Test CPU", "cores": 2}))
    (run / "commands.tsv").write_text(
        "name\tcommand\tseconds\tstatus\n"
        'fec_optimizers\tpython scripts/bench_fec.py --settings "{tasks: [a]}"\t12\t0\n'
        "store\tpython scripts/bench_store.py\t400\t124\n")
    (run / "fec_optimizers.jsonl").write_text(
        "progress text that is not JSON\n"
        + json.dumps({"metric": "fec_hit_rate_median", "value": 0.433, "unit": "fraction",
                      "values": [0.421, 0.433, 0.439], "seeds": 3}) + "\n"
        + json.dumps({"metric": "fec_wall_clock_ratio", "value": 1.57, "unit": "x",
                      "min": 1.5, "max": 1.77}) + "\n")
    gpu = tmp_path / "gpu"
    gpu.mkdir()
    (gpu / "h200.jsonl").write_text(json.dumps(
        {"metric": "optimizer_batched_speedup", "value": 42.0, "unit": "x",
         "device": "NVIDIA H200"}) + "\n")
    out = tmp_path / "BENCHMARKS.md"
    subprocess.run([sys.executable, str(SCRIPT), str(run), "--out", str(out),
                    "--gpu-results", str(gpu)], check=True, capture_output=True)
    text = out.read_text()
    assert "- cpu: Test CPU" in text
    assert '`python scripts/bench_fec.py --settings "{tasks: [a]}"` (12 s)' in text
    assert "| `fec_hit_rate_median` | 0.433 fraction | 0.421 – 0.439 (n=3) | seeds=3 |" in text
    assert "| `fec_wall_clock_ratio` | 1.57 x | 1.5 – 1.77 |" in text
    assert "progress text" not in text
    # a benchmark that overran its limit is reported, not silently missing
    assert "exit status 124" in text and "No figures were printed." in text
    assert "## GPU" in text and "device=NVIDIA H200" in text
