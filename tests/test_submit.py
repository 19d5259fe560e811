"""`automl submit`: a campaign submitted as a Ray Job to a Ray head with its dashboard, then
followed with `automl status` through the database alone; and the user errors that stop it
before any cluster is contacted."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from automl.cli import app
from workers import cli as cli_cluster

BIN = Path(sys.executable).parent  # the venv's bin: ray, automl
runner = CliRunner()

SMALL_CONFIG = """
name: small
space:
  name: autonumerics
  settings: {target: exp2, fit_constants: false, max_statements: 8}
evolution: {strategy: nsga2, population_size: 8}
budget: {max_evaluations: 40}
executor: {kind: local, batch_size: 8}
"""


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for variable in ("AUTOML_DB", "RAY_ADDRESS", "RAY_API_SERVER_ADDRESS"):
        monkeypatch.delenv(variable, raising=False)
    (tmp_path / "small.yaml").write_text(SMALL_CONFIG)
    return tmp_path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def error_lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.strip()]


# --- user errors: one line, exit 2, no cluster contacted ------------------------------------

def test_a_bad_config_fails_before_any_cluster_is_contacted(workdir, monkeypatch):
    def no_cluster(address: str) -> Any:
        raise AssertionError(f"contacted {address}")

    monkeypatch.setattr(cli_cluster, "_connect", no_cluster)
    (workdir / "bad.yaml").write_text(SMALL_CONFIG.replace("nsga2", "tournament"))
    result = runner.invoke(app, ["submit", "bad.yaml", "--address", "http://192.0.2.1:8265"])
    assert result.exit_code == 2, result.output
    (line,) = error_lines(result.output)
    assert line.startswith("error: bad.yaml:6: evolution.strategy:"), line

    missing = runner.invoke(app, ["submit", "nope.yaml", "--address", "http://192.0.2.1:8265"])
    assert missing.exit_code == 2 and "nope.yaml: cannot read config" in missing.output


@pytest.mark.parametrize("options, message", [
    (["--name", "has space"], "--name 'has space'"),
    (["--db", "sqlite:///:memory:"], "not an in-memory database"),
    (["--db", "not a url"], "--db: not a database URL"),
])
def test_bad_options_fail_before_any_cluster_is_contacted(workdir, monkeypatch, options,
                                                          message):
    monkeypatch.setattr(cli_cluster, "_connect", lambda address: pytest.fail("contacted"))
    result = runner.invoke(app, ["submit", "small.yaml", "--address", "http://192.0.2.1:8265",
                                 *options])
    assert result.exit_code == 2, result.output
    (line,) = error_lines(result.output)
    assert line.startswith("error: ") and message in line, line


def test_an_unreachable_address_is_one_line_naming_it(workdir):
    address = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    started = time.monotonic()
    result = runner.invoke(app, ["submit", "small.yaml", "--address", address,
                                 "--db", f"sqlite:///{workdir / 's.db'}"])
    assert result.exit_code == 2, result.output
    (line,) = error_lines(result.output)
    assert line.startswith(f"error: cannot reach the Ray dashboard at {address}"), line
    assert time.monotonic() - started < 30
    assert not (workdir / "s.db").exists()


# --- what the job is made of, with a stand-in for the Jobs API ------------------------------

class FakeJobsClient:
    """Records submit_job and what its working_dir holds at that moment."""

    def __init__(self, address: str):
        self.address = address
        self.submitted: dict[str, Any] = {}
        self.shipped: dict[str, str] = {}

    def submit_job(self, **request: Any) -> str:
        self.submitted = request
        directory = Path(request["runtime_env"]["working_dir"])
        self.shipped = {p.name: p.read_text() for p in directory.iterdir()}
        return request["submission_id"]

    def get_job_status(self, job_id: str) -> str:
        return "PENDING"

    def get_address(self) -> str:
        return self.address


@pytest.fixture
def fake_cluster(monkeypatch) -> list[FakeJobsClient]:
    clients: list[FakeJobsClient] = []

    def connect(address: str) -> FakeJobsClient:
        clients.append(FakeJobsClient(address))
        return clients[-1]

    monkeypatch.setattr(cli_cluster, "_connect", connect)
    return clients


def test_the_job_runs_automl_run_on_the_config_alone(workdir, fake_cluster):
    result = runner.invoke(app, ["submit", "small.yaml", "--address", "127.0.0.1:8265/",
                                 "--db", "sqlite:///results/s.db", "--max-evals", "30",
                                 "--seed", "3", "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    (client,) = fake_cluster
    request = client.submitted
    name = payload["campaign"]
    assert name.startswith("small-") and request["submission_id"] == name == payload["job_id"]
    assert request["entrypoint"] == (f"automl run small.yaml --name {name} --executor ray "
                                     "--max-evals 30 --seed 3")
    assert client.shipped == {"small.yaml": SMALL_CONFIG}  # the file alone, unchanged
    absolute = f"sqlite:///{workdir / 'results' / 's.db'}"  # not the job's temporary cwd
    assert request["runtime_env"]["env_vars"] == {"AUTOML_DB": absolute}
    assert request["metadata"] == {"campaign": name, "config": "small.yaml",
                                   "database": absolute}
    assert payload["address"] == "http://127.0.0.1:8265"
    assert payload["dashboard_url"] == f"http://127.0.0.1:8265/#/jobs/{name}"
    assert payload["status_command"] == f"automl status {name} --db {absolute}"
    assert payload["status"] == "PENDING"
    assert "warning" not in result.output  # a local address: SQLite is fine


def test_passwords_are_never_printed_and_sqlite_far_away_is_refused(workdir, fake_cluster):
    (workdir / "far.yaml").write_text(
        SMALL_CONFIG.replace("{kind: local, batch_size: 8}",
                             "{kind: local, batch_size: 8, address: 'ray://laptop:10001'}"))
    postgres = "postgresql+psycopg://automl:s3cret-pw@db.internal:5432/automl"
    result = runner.invoke(app, ["submit", "far.yaml", "--address", "http://192.0.2.1:8265",
                                 "--db", postgres, "--name", "pg1"])
    assert result.exit_code == 0, result.output
    assert "s3cret-pw" not in result.output
    assert "postgresql+psycopg://automl:***@db.internal:5432/automl" in result.output
    assert "password travels in the job's runtime_env" in result.output
    (client,) = fake_cluster
    assert client.submitted["runtime_env"]["env_vars"] == {"AUTOML_DB": postgres}
    assert "s3cret-pw" not in client.submitted["entrypoint"] + json.dumps(
        client.submitted["metadata"])
    assert "address" not in client.shipped["far.yaml"]  # the job connects to its own cluster
    assert "batch_size: 8" in client.shipped["far.yaml"]

    sqlite = runner.invoke(app, ["submit", "small.yaml", "--address", "http://192.0.2.1:8265",
                                 "--db", "sqlite:///s.db", "--name", "far-sqlite"])
    assert sqlite.exit_code == 2 and "a SQLite database is a file on one machine" \
        in sqlite.output  # refused (issue 29): `automl status` here could never read it

    nothing = runner.invoke(app, ["submit", "small.yaml", "--address", "http://192.0.2.1:8265",
                                  "--name", "no-db"])
    assert nothing.exit_code == 2 and "no database for the job" in nothing.output

    default = runner.invoke(app, ["submit", "small.yaml", "--address", "http://192.0.2.1:8265",
                                  "--name", "cluster-db", "--cluster-db", "--json"])
    assert default.exit_code == 0, default.output
    assert "env_vars" not in fake_cluster[-1].submitted["runtime_env"]  # the cluster's own
    assert json.loads(default.stdout)["status_command"] == "automl status cluster-db"


def test_wait_follows_the_logs_and_a_failed_job_exits_1(workdir, monkeypatch):
    class EndingClient(FakeJobsClient):
        async def tail_job_logs(self, job_id: str):
            for chunk in ("Running entrypoint\n", "error: the database is gone\n"):
                yield chunk

        def get_job_info(self, job_id: str) -> Any:
            from ray.job_submission import JobStatus

            return type("Info", (), {"status": JobStatus.FAILED,
                                     "message": "Job entrypoint command failed\nexit 2"})

    monkeypatch.setattr(cli_cluster, "_connect", EndingClient)
    result = runner.invoke(app, ["submit", "small.yaml", "--address", "http://127.0.0.1:1",
                                 "--name", "w1", "--cluster-db", "--wait", "--json"])
    assert result.exit_code == 1, result.output
    assert json.loads(result.stdout)["status"] == "FAILED"
    assert "error: the database is gone" in result.stderr  # the logs: not on stdout
    assert "error: job w1 FAILED: Job entrypoint command failed exit 2" in result.stderr


# --- a real Ray head with its dashboard -----------------------------------------------------

def _session_processes(session: int) -> list[int]:
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.getsid(int(entry)) == session:
                    pids.append(int(entry))
            except OSError:
                pass
    return pids


@pytest.fixture(scope="module")
def ray_head() -> Iterator[dict[str, Any]]:
    """A Ray head with its dashboard, token authentication on (Ray's default) with a
    throwaway token, in its own temp dir on free ports: `ray.init()` elsewhere on this machine
    neither finds nor disturbs it. Stopped by signalling its `ray start --block` process, then
    killing what is left of its session; never `ray stop`, which stops every Ray of the user."""
    if not (BIN / "ray").exists():
        pytest.skip(f"no ray command in {BIN}")
    temp_dir = tempfile.mkdtemp(prefix="rsub", dir="/tmp")  # short: Ray's socket paths
    dashboard_port = free_port()
    token = secrets.token_hex(16)
    environment = {key: value for key, value in os.environ.items()
                   if key not in ("RAY_ADDRESS", "RAY_API_SERVER_ADDRESS", "AUTOML_DB")}
    environment |= {"PATH": f"{BIN}{os.pathsep}{environment.get('PATH', '')}",  # for `automl`
                    "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": token,
                    "RAY_USAGE_STATS_ENABLED": "0"}
    log = open(Path(temp_dir) / "head.log", "w")  # noqa: SIM115 - closed below
    head = subprocess.Popen(
        [str(BIN / "ray"), "start", "--head", "--block", f"--temp-dir={temp_dir}",
         f"--port={free_port()}", "--num-cpus=2", "--include-dashboard=true",
         "--dashboard-host=127.0.0.1", f"--dashboard-port={dashboard_port}",
         f"--dashboard-agent-listen-port={free_port()}",
         f"--ray-client-server-port={free_port()}", f"--metrics-export-port={free_port()}",
         "--disable-usage-stats"],
        stdout=log, stderr=subprocess.STDOUT, env=environment, start_new_session=True)
    address = f"http://127.0.0.1:{dashboard_port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:  # any HTTP answer (401 without the token) means the dashboard is up
                urllib.request.urlopen(f"{address}/api/version", timeout=2).close()
                break
            except urllib.error.HTTPError:
                break
            except OSError:
                pass
            if head.poll() is not None or time.monotonic() > deadline:
                tail = (Path(temp_dir) / "head.log").read_text()[-1500:]
                pytest.skip(f"a Ray head with its dashboard does not start here "
                            f"(exit {head.poll()}): {tail}")
            time.sleep(0.5)
        yield {"address": address, "env": environment}  # clients: the same token
    finally:
        head.send_signal(signal.SIGTERM)  # the head's own shutdown: kills what it started
        try:
            head.wait(timeout=30)
        except subprocess.TimeoutExpired:
            head.kill()
            head.wait()
        for _ in range(20):  # stragglers of this head's session only
            left = _session_processes(head.pid)
            if not left:
                break
            for pid in left:
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.25)
        log.close()
        shutil.rmtree(temp_dir, ignore_errors=True)


JOB_INFO = """
import json, sys
from ray.job_submission import JobSubmissionClient
client = JobSubmissionClient(sys.argv[1])
info = client.get_job_info(sys.argv[2])
print(json.dumps({"status": str(client.get_job_status(sys.argv[2])),
                  "metadata": info.metadata, "entrypoint": info.entrypoint,
                  "logs": client.get_job_logs(sys.argv[2])}))
"""


@pytest.mark.ray
def test_a_submitted_campaign_runs_as_a_ray_job_and_status_follows_it(workdir, ray_head):
    db = f"sqlite:///{workdir / 's.db'}"
    started = time.monotonic()
    submitted = subprocess.run(
        [str(BIN / "automl"), "submit", "small.yaml", "--address", ray_head["address"],
         "--db", db, "--name", "sub1", "--wait", "--json"],
        capture_output=True, text=True, env=ray_head["env"], cwd=workdir, timeout=180)
    seconds = time.monotonic() - started
    assert submitted.returncode == 0, submitted.stdout + submitted.stderr
    payload = json.loads(submitted.stdout)  # the job's logs went to stderr
    assert payload["campaign"] == payload["job_id"] == "sub1"
    assert payload["status"] == "SUCCEEDED"
    assert payload["dashboard_url"] == f"{ray_head['address']}/#/jobs/sub1"
    assert "campaign sub1 (id 1) finished" in submitted.stderr
    print(f"submit --wait: {seconds:.1f} s")

    job = subprocess.run([sys.executable, "-c", JOB_INFO, ray_head["address"], "sub1"],
                         capture_output=True, text=True, env=ray_head["env"], timeout=60)
    assert job.returncode == 0, job.stderr
    info = json.loads(job.stdout)
    assert info["status"] == "SUCCEEDED"
    assert info["metadata"]["campaign"] == "sub1"
    assert info["entrypoint"] == "automl run small.yaml --name sub1 --executor ray"
    assert "sub1" in info["logs"]

    status = runner.invoke(app, ["status", "sub1", "--db", db, "--json"])
    assert status.exit_code == 0, status.output
    record = json.loads(status.stdout)
    assert record["status"] == "finished"
    assert record["by_status"]["evaluated"] + record["by_status"]["failed"] == 40
    listed = json.loads(runner.invoke(app, ["ls", "--db", db, "--json"]).stdout)
    assert [(c["name"], c["evaluations"]) for c in listed] == [("sub1", 40)]
    with sqlite3.connect(workdir / "s.db") as connection:  # evaluated by the cluster's actors
        workers = {row[0] for row in connection.execute("SELECT worker FROM evaluations")}
    assert workers and all(worker.startswith("ray:") for worker in workers), workers

    again = subprocess.run(
        [str(BIN / "automl"), "submit", "small.yaml", "--address", ray_head["address"],
         "--db", db, "--name", "sub1"],
        capture_output=True, text=True, env=ray_head["env"], cwd=workdir, timeout=60)
    assert again.returncode == 2
    assert "already has a job with submission id 'sub1'" in again.stderr, again.stderr


@pytest.mark.ray
def test_a_job_that_fails_on_the_cluster_makes_submit_wait_exit_1(workdir, ray_head):
    submitted = subprocess.run(
        [str(BIN / "automl"), "submit", "small.yaml", "--address", ray_head["address"],
         "--db", "sqlite:////proc/automl-nowhere/s.db", "--name", "fails1", "--wait"],
        capture_output=True, text=True, env=ray_head["env"], cwd=workdir, timeout=180)
    assert submitted.returncode == 1, submitted.stdout + submitted.stderr
    assert "error:" in submitted.stdout and "/proc/automl-nowhere" in submitted.stdout  # run's
    assert "error: job fails1 FAILED" in submitted.stderr
