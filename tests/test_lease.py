"""A campaign has exactly one live owner (issue 29): the lease, with real `automl` processes and
real databases (no mock of the store). A short grace period (2 s, heartbeats every 0.5 s)
keeps the waits short.

- kill -9: `status` says stale within grace + 1 s, `resume` finishes with exactly the budget;
- two takers of one stale campaign at once: exactly one wins (20 times at the store, a few
  times as two `automl resume` processes), the other exits 2 with one line;
- a `resume` while the owner lives is refused and the owner finishes untouched;
- a paused (partitioned) owner whose campaign was taken over stops without writing a row;
- disk full mid-batch: `failed (database or disk is full)`, and the resume after is exact;
- a damaged SQLite file is refused for writing, `automl db check` reports it.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from automl import lease
from automl.config import parse_config
from automl.controller import CampaignController
from automl.store import Store
from automl.store.errors import LeaseHeld
from tests.test_resume import BUDGET
from tests.test_resume import CONFIG as RESUME_CONFIG
from tests.test_resume import evaluated_count as evaluated

REPOSITORY = Path(__file__).resolve().parents[1]
GRACE = 2.0
# the resume tests' campaign, with a lease that goes stale within seconds
CONFIG = RESUME_CONFIG + f"lease: {{heartbeat_seconds: 0.5, grace_seconds: {GRACE}}}\n"
ENVIRONMENT = {**os.environ, "PYTHONPATH": str(REPOSITORY)}
ENVIRONMENT.pop("AUTOML_DB", None)


def automl(*args: str, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "automl", *args], cwd=cwd, env=ENVIRONMENT,
                          capture_output=True, text=True, timeout=timeout)


def start(*args: str, cwd: Path, program: list[str] | None = None,
          env: dict[str, str] | None = None) -> subprocess.Popen:
    return subprocess.Popen([*(program or [sys.executable, "-m", "automl"]), *args], cwd=cwd,
                            env=env or ENVIRONMENT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)


def wait_for(condition, timeout: float = 60, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def candidates(url: str, name: str = "c") -> list[tuple]:
    with Store.open(url) as store:
        campaign = store.get_campaign(name)
        return [(c.number, c.program, c.status, c.duplicate_of)
                for c in store.load_candidates(campaign.id)]


def exact_budget(url: str, name: str = "c", budget: int = BUDGET) -> list[tuple]:
    rows = candidates(url, name)
    assert [row[0] for row in rows] == list(range(len(rows)))  # no gap, no repeat
    assert sum(row[2] != "duplicate" for row in rows) == budget
    return rows


def record(url: str, name: str = "c"):
    with Store.open(url) as store:
        return store.get_campaign(name)


def snapshot(path: Path) -> tuple:
    """Everything a controller writes: row counts and the campaign row."""
    with sqlite3.connect(path, timeout=10) as conn:
        counts = tuple(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                       for table in ("candidates", "evaluations", "cache_entries",
                                     "in_flight_candidates", "objective_values"))
        row = conn.execute("SELECT status, owner, heartbeat_at, updated_at, state "
                           "FROM campaigns").fetchone()
    return counts, row


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "c.yaml"
    path.write_text(CONFIG)
    return path


@pytest.mark.slow
def test_kill_9_shows_stale_then_resume_finishes_with_exactly_the_budget(tmp_path, config_file):
    db = tmp_path / "c.db"
    url = f"sqlite:///{db}"
    owner = start("run", str(config_file), "--db", url, "--name", "c", "--json", cwd=tmp_path)
    wait_for(lambda: evaluated(db) >= BUDGET // 3, what="a third of the budget")
    assert lease.liveness(record(url)) == ("running", "running")
    owner.send_signal(signal.SIGKILL)
    owner.wait()
    killed = time.monotonic()
    wait_for(lambda: lease.liveness(record(url))[0] == "stale", timeout=GRACE + 5,
             what="stale")
    assert time.monotonic() - killed <= GRACE + 1
    shown = automl("status", "c", "--db", url, "--json", cwd=tmp_path)
    status = json.loads(shown.stdout)
    assert status["status"] == "running" and status["liveness"] == "stale"
    assert status["status_text"].startswith("stale (last heartbeat ")
    assert f"pid {owner.pid}" in status["status_text"]

    resumed = automl("resume", "c", "--db", url, "--json", cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    exact_budget(url)
    assert lease.liveness(record(url)) == ("finished", "finished")


@pytest.mark.slow
def test_a_resume_while_the_owner_lives_is_refused_and_the_owner_finishes_untouched(
        tmp_path, config_file):
    db = tmp_path / "c.db"
    url = f"sqlite:///{db}"
    # long enough to outlive the refused resume's start-up
    config_file.write_text(CONFIG.replace(f"max_evaluations: {BUDGET}", "max_evaluations: 300"))
    owner = start("run", str(config_file), "--db", url, "--name", "c", "--json", cwd=tmp_path)
    wait_for(lambda: evaluated(db) >= 1, what="the first evaluations")
    refused = automl("resume", "c", "--db", url, cwd=tmp_path)
    assert refused.returncode == 2
    assert len(refused.stderr.strip().splitlines()) == 1, refused.stderr
    assert f"pid {owner.pid}" in refused.stderr and "--force" in refused.stderr
    assert owner.poll() is None, "the owner ended before the resume was refused"
    _, errors = owner.communicate(timeout=120)
    assert owner.returncode == 0, errors
    exact_budget(url, budget=300)
    assert record(url).status == "finished"


def test_resume_of_a_finished_campaign_says_so_and_max_evals_extends_it(tmp_path):
    url = f"sqlite:///{tmp_path / 'c.db'}"
    with Store.open(url) as store:
        CampaignController.create(parse_config(CONFIG.replace(f"max_evaluations: {BUDGET}",
                                                              "max_evaluations: 20")),
                                  store, "c").run()
    before = candidates(url)
    done = automl("resume", "c", "--db", url, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "is finished" in done.stdout and "--max-evals" in done.stdout
    assert candidates(url) == before  # nothing ran
    extended = automl("resume", "c", "--db", url, "--max-evals", "30", "--json", cwd=tmp_path)
    assert extended.returncode == 0, extended.stderr
    assert json.loads(extended.stdout)["evaluations"] == 30
    assert record(url).config["budget"]["max_evaluations"] == 30


def test_a_resume_that_fails_before_running_leaves_the_campaign_as_it_was(tmp_path,
                                                                          monkeypatch):
    url = f"sqlite:///{tmp_path / 'c.db'}"
    campaign_id = stale_campaign(url, "c", budget=8)
    with Store.open(url) as store:
        store.set_campaign_status(campaign_id, "failed")
        with store.engine.begin() as conn:
            conn.execute(text("UPDATE campaigns SET failure = 'disk full' WHERE id = :id"),
                         {"id": campaign_id})

        def broken_restore(parts):
            raise RuntimeError("restore failed")

        monkeypatch.setattr("automl.controller.restore", broken_restore)
        with pytest.raises(RuntimeError, match="restore failed"):
            CampaignController.resume(store, "c")
        after = store.get_campaign(campaign_id)
        assert (after.status, after.failure) == ("failed", "disk full")
        assert lease.liveness(after)[1] == "failed (disk full)"
        make_stale(store, campaign_id)  # a stale one is stopped after a failed resume
        with pytest.raises(RuntimeError, match="restore failed"):
            CampaignController.resume(store, "c")
        assert store.get_campaign(campaign_id).status == "stopped"


@pytest.mark.slow
def test_a_paused_owner_whose_campaign_was_taken_over_stops_without_writing(
        tmp_path, config_file):
    db = tmp_path / "c.db"
    url = f"sqlite:///{db}"
    owner = start("run", str(config_file), "--db", url, "--name", "c", "--json", cwd=tmp_path)
    wait_for(lambda: evaluated(db) >= BUDGET // 3, what="a third of the budget")
    while True:  # pause it outside a write transaction (a real partition drops its locks)
        owner.send_signal(signal.SIGSTOP)
        try:
            with sqlite3.connect(db, timeout=0.2) as conn:
                conn.execute("BEGIN IMMEDIATE")
                conn.rollback()
            break
        except sqlite3.OperationalError:
            owner.send_signal(signal.SIGCONT)
            time.sleep(0.05)
    time.sleep(GRACE + 0.5)
    taken = automl("resume", "c", "--db", url, "--json", cwd=tmp_path)
    assert taken.returncode == 0, taken.stderr
    exact_budget(url)
    before = snapshot(db)
    owner.send_signal(signal.SIGCONT)
    _, errors = owner.communicate(timeout=60)
    assert owner.returncode == 2
    assert len(errors.strip().splitlines()) == 1 and "lost its lease" in errors, errors
    assert snapshot(db) == before  # not one row, not the status
    assert record(url).status == "finished"


# -- two takers at once --------------------------------------------------------------------

def stale_campaign(url: str, name: str, budget: int = BUDGET) -> int:
    """A campaign whose owner's heartbeat is long past the grace period."""
    config = parse_config(CONFIG.replace(f"max_evaluations: {BUDGET}",
                                         f"max_evaluations: {budget}"))
    with Store.open(url) as store:
        campaign = CampaignController.create(config, store, name).campaign
        make_stale(store, campaign.id)
    return campaign.id


def make_stale(store: Store, campaign_id: int) -> None:
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE campaigns SET status = 'running', "
                          "heartbeat_at = heartbeat_at - 100 WHERE id = :id"),
                     {"id": campaign_id})


def test_two_takers_of_a_stale_campaign_at_once_exactly_one_wins(db_url):
    """20 times: two threads, each with its own engine, take the lease at the same moment."""
    campaign_id = stale_campaign(db_url, "race")
    stores = [Store.open(db_url) for _ in range(2)]
    try:
        for repetition in range(20):
            make_stale(stores[0], campaign_id)
            barrier = threading.Barrier(2)
            outcomes: list[str] = [""] * 2

            def take(i: int, barrier: threading.Barrier, outcomes: list[str]) -> None:
                owner = lease.owner_text(lease.owner_identity())
                barrier.wait()
                try:
                    stores[i].take_lease(campaign_id, owner, GRACE)
                    outcomes[i] = "won"
                except LeaseHeld as held:
                    outcomes[i] = str(held)

            threads = [threading.Thread(target=take, args=(i, barrier, outcomes))
                       for i in range(2)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            assert sorted(outcomes)[-1] == "won" and outcomes.count("won") == 1, (repetition,
                                                                                   outcomes)
            loser = next(o for o in outcomes if o != "won")
            assert "last heartbeat 0 s ago" in loser and "\n" not in loser
    finally:
        for store in stores:
            store.close()


@pytest.mark.slow
def test_two_resume_processes_at_once_one_wins_the_other_exits_2(db_url, tmp_path):
    for repetition in range(2):
        name = f"race-{repetition}"
        stale_campaign(db_url, name)  # the winner runs for seconds: the loser meets it live
        processes = [start("resume", name, "--db", db_url, "--json", cwd=tmp_path)
                     for _ in range(2)]
        codes, errors = [], []
        for process in processes:
            _, error = process.communicate(timeout=120)
            codes.append(process.returncode)
            errors.append(error)
        assert sorted(codes) == [0, 2], (codes, errors)
        loser = errors[codes.index(2)]
        assert len(loser.strip().splitlines()) == 1 and "cannot resume" in loser, loser
        rows = candidates(db_url, name)
        assert [row[0] for row in rows] == list(range(len(rows)))  # no duplicate work
        assert sum(row[2] != "duplicate" for row in rows) == BUDGET


# -- failures --------------------------------------------------------------------------------

# `automl` with SQLite's max_page_count on every connection: the database file cannot grow
# past it, and SQLite answers "database or disk is full", as on a full disk
FULL_DISK = """
import os, sys
from sqlalchemy import event
from sqlalchemy.pool import Pool

@event.listens_for(Pool, "connect")
def _limit(dbapi_connection, record):
    dbapi_connection.execute(f"PRAGMA max_page_count={int(os.environ['MAX_PAGES'])}")

from automl.cli import main
sys.argv[0] = "automl"
main()
"""


@pytest.mark.slow
def test_disk_full_mid_batch_fails_with_the_reason_and_resume_after_is_exact(
        tmp_path, config_file):
    reference = f"sqlite:///{tmp_path / 'reference.db'}"
    with Store.open(reference) as store:
        CampaignController.create(parse_config(CONFIG), store, "c").run()
    expected = exact_budget(reference)

    wrapper = tmp_path / "full_disk.py"
    wrapper.write_text(FULL_DISK)
    db = tmp_path / "c.db"
    url = f"sqlite:///{db}"
    full = start("run", str(config_file), "--db", url, "--name", "c", "--json", cwd=tmp_path,
                 program=[sys.executable, str(wrapper)],
                 env={**ENVIRONMENT, "MAX_PAGES": "48"})
    _, errors = full.communicate(timeout=120)
    assert full.returncode == 2 and "database or disk is full" in errors, errors
    stopped = record(url)
    assert 0 < evaluated(db) < BUDGET
    assert lease.liveness(stopped) == ("failed", "failed (database or disk is full)")
    shown = automl("status", "c", "--db", url, cwd=tmp_path)
    assert "failed (database or disk is full)" in " ".join(shown.stdout.split())

    resumed = automl("resume", "c", "--db", url, "--json", cwd=tmp_path)  # space freed
    assert resumed.returncode == 0, resumed.stderr
    assert exact_budget(url) == expected


@pytest.mark.slow
def test_a_damaged_sqlite_file_is_refused_for_writing_and_db_check_reports_it(tmp_path):
    db = tmp_path / "c.db"
    url = f"sqlite:///{db}"
    with Store.open(url) as store:
        CampaignController.create(parse_config(CONFIG.replace(
            f"max_evaluations: {BUDGET}", "max_evaluations: 40")), store, "c").run()
    assert automl("db", "check", "--db", url, cwd=tmp_path).returncode == 0
    size = db.stat().st_size
    with open(db, "r+b") as file:  # 16 KiB of noise in the middle
        file.seek(size // 2 // 4096 * 4096)
        file.write(os.urandom(16 * 1024))
    before = hashlib.sha256(db.read_bytes()).hexdigest()
    config_file = tmp_path / "c.yaml"
    config_file.write_text(CONFIG)

    for command in (["run", str(config_file), "--name", "d"], ["resume", "c"]):
        refused = automl(*command, "--db", url, cwd=tmp_path)
        assert refused.returncode == 2, refused.stderr
        assert len(refused.stderr.strip().splitlines()) == 1, refused.stderr
        assert "is damaged" in refused.stderr and "refusing to write" in refused.stderr
    assert hashlib.sha256(db.read_bytes()).hexdigest() == before  # nothing written

    checked = automl("db", "check", "--db", url, "--json", cwd=tmp_path)
    assert checked.returncode == 1
    report = json.loads(checked.stdout)
    assert report["ok"] is False and report["problems"]
    listed = automl("ls", "--db", url, cwd=tmp_path)
    assert "warning:" in listed.stderr and "is damaged" in listed.stderr


def test_a_locked_file_is_no_verdict_on_its_pages(tmp_path):
    """quick_check that cannot read (another process holds an exclusive lock) says so; it
    does not call a sound file damaged and send its owner to a backup."""
    import sqlite3

    from automl.store import StoreError
    from automl.store.integrity import sqlite_problems

    path = tmp_path / "locked.db"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("CREATE TABLE t (x)")
    assert sqlite_problems(path) == []
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(StoreError, match="could not be checked: database is locked"):
            sqlite_problems(path, busy_timeout=0.1)
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_submit_without_a_shared_database_is_refused(tmp_path, config_file):
    refused = automl("submit", str(config_file), "--address", "http://127.0.0.1:9",
                     cwd=tmp_path)
    assert refused.returncode == 2
    assert len(refused.stderr.strip().splitlines()) == 1, refused.stderr
    assert "--db" in refused.stderr and "AUTOML_DB" in refused.stderr
