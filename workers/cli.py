"""`automl submit`: run a campaign on a Ray cluster as a Ray Job (Jobs API of the dashboard),
so that it shows in the dashboard's Jobs view with its logs, and outlives the shell that
submitted it. With `stop` (of a detached campaign), registered on the `automl` command by the
entry point ``automl.cli: cluster = workers.cli:register``: command-line code of the Ray layer,
so the command line reaches Ray only through the plug-in registry.

The job runs ``automl run CONFIG --name NAME --executor ray [--max-evals N] [--seed S]`` on
the cluster (its nodes have automl-evolution installed, as the docker images do). Only the
config file travels, as the job's ``working_dir``; inside a Ray job the driver's
``$RAY_ADDRESS`` names the cluster it runs in, which ``ray.init()`` (``executor.address``
unset) connects to. A config that sets ``executor.address`` travels as a copy without it.

The database (``--db``, else this shell's ``$AUTOML_DB``) travels as the job's ``$AUTOML_DB``,
never on its command line; it must be shared, i.e. reachable from the cluster and from here: a
PostgreSQL URL, or a SQLite file only when the cluster runs on this machine (made absolute).
``--cluster-db`` instead uses the ``$AUTOML_DB`` the cluster's nodes set themselves
(docker/docker-compose.yml sets one), which keeps a password off the job's runtime_env. With
none of these, `submit` refuses: the job would write the config's SQLite default into Ray's
temporary working directory, where `automl status` never finds it. ``automl status NAME`` then
follows the campaign from any machine that reaches the database.

A PostgreSQL password given in the URL is readable in the job's runtime_env (`ray job list`,
the dashboard): give a URL without one and let libpq find it on the cluster's nodes
(``PGPASSWORD`` in the environment `ray start` ran with, or ``~/.pgpass``); see README,
"Distributed campaigns".

Ray's token authentication (``RAY_AUTH_MODE=token``, the default of recent Ray for local
clusters): the token comes from ``$RAY_AUTH_TOKEN``, ``$RAY_AUTH_TOKEN_PATH`` or
``~/.ray/auth_token``, as Ray reads it; when the dashboard refuses, one line says which is
missing.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import os
import re
import shlex
import socket
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn
from urllib.parse import urlsplit

import typer
import yaml
from rich.markup import escape

from automl.cli.common import JsonOption, console, error_console, print_json, user_errors

if TYPE_CHECKING:  # imported when a command runs, not to show `automl --help`
    from automl.config import CampaignConfig

NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
CONNECT_TIMEOUT_S = 10.0
RAY_LOGGERS = ("ray.dashboard.modules.dashboard_sdk", "ray.dashboard.modules.job.sdk",
               "ray._private.runtime_env.packaging")


def submit(
    config_path: Annotated[Path, typer.Argument(metavar="CONFIG", help="Campaign YAML file.")],
    address: Annotated[str, typer.Option(
        "--address", envvar="RAY_API_SERVER_ADDRESS", show_envvar=True,
        help="The cluster's dashboard (Jobs API), e.g. http://HEAD:8265.")],
    db: Annotated[str | None, typer.Option(
        "--db", help="Database URL the job writes to, shared with the cluster (PostgreSQL; "
                     "SQLite only for a cluster on this machine). Default: $AUTOML_DB.")
    ] = None,
    cluster_db: Annotated[bool, typer.Option(
        "--cluster-db", help="Write to the $AUTOML_DB the cluster's nodes set themselves "
                             "(keeps its password off the job's runtime_env).")] = False,
    name: Annotated[str | None, typer.Option(
        help="Campaign name, also the Ray job's submission id (default: "
             "<config name>-<timestamp>).")] = None,
    max_evals: Annotated[int | None, typer.Option("--max-evals", help="Evaluation budget.")] = None,
    seed: Annotated[int | None, typer.Option(help="Campaign seed.")] = None,
    wait: Annotated[bool, typer.Option(
        "--wait/--no-wait", help="Follow the job's logs until it ends; exit 1 if it fails.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Submit a campaign to a Ray cluster as a Ray Job (shown in the dashboard's Jobs view)."""
    from automl.config import load_config
    from automl.store import safe_url

    with user_errors():
        overrides: dict[str, Any] = {"executor.kind": "ray"}
        if max_evals is not None:
            overrides["budget.max_evaluations"] = max_evals
        if seed is not None:
            overrides["seed"] = seed
        # user errors stop here, before the cluster
        config = load_config(config_path, overrides, flags={
            "budget.max_evaluations": "--max-evals", "seed": "--seed"})
        campaign = _campaign_name(name, config, config_path)
        address = _dashboard_url(address)
        url = _shared_database(db, cluster_db, address)

        command = ["automl", "run", config_path.name, "--name", campaign, "--executor", "ray"]
        if max_evals is not None:
            command += ["--max-evals", str(max_evals)]
        if seed is not None:
            command += ["--seed", str(seed)]
        entrypoint = shlex.join(command)

        client = _connect(address)
        with tempfile.TemporaryDirectory(prefix="automl-submit-") as working_dir:
            _ship_config(config_path, config, Path(working_dir))
            runtime_env: dict[str, Any] = {"working_dir": working_dir}
            if url is not None:
                runtime_env["env_vars"] = {"AUTOML_DB": url}
            metadata = {"campaign": campaign, "config": config_path.name,
                        "database": safe_url(url) if url else "cluster default"}
            try:
                job_id = client.submit_job(entrypoint=entrypoint, runtime_env=runtime_env,
                                           submission_id=campaign, metadata=metadata)
            except RuntimeError as error:
                if "already exists" in str(error):
                    raise ValueError(f"{address} already has a job with submission id "
                                     f"{campaign!r}: choose another --name") from None
                raise ValueError(f"submitting to {address} failed: {_one_line(error)}") from None
        job_status = str(client.get_job_status(job_id))

    shown_url = safe_url(url) if url else None
    status_command = shlex.join(["automl", "status", campaign]
                                + (["--db", shown_url] if shown_url else []))
    payload = {"job_id": job_id, "campaign": campaign, "address": address,
               "dashboard_url": f"{address}/#/jobs/{job_id}", "entrypoint": entrypoint,
               "database": shown_url, "status_command": status_command, "status": job_status}
    if not as_json:
        _print_submitted(payload, fallback_database=safe_url(config.database))
    if not wait:
        if as_json:
            print_json(payload)
        return

    final, message = _follow(client, job_id, sys.stderr if as_json else sys.stdout)
    payload["status"] = final
    if as_json:
        print_json(payload | {"message": message})
    if final != "SUCCEEDED":
        error_console.print(f"[bold red]error:[/] job {escape(job_id)} {final}"
                            + (f": {escape(_one_line(message))}" if message else ""),
                            highlight=False)
        raise typer.Exit(1)
    if not as_json:
        console.print(f"job {escape(job_id)} SUCCEEDED", highlight=False)


def _campaign_name(name: str | None, config: CampaignConfig, config_path: Path) -> str:
    """--name, or `<config name>-<timestamp>` made here, so the user knows it before the job
    starts (`automl run` numbers names, `STEM-N`, from the database it writes; a job's name
    is chosen before the job reaches its database). It is the job's submission id too, hence the
    restricted alphabet (it appears in the Jobs API's URLs)."""
    if name is not None:
        if not NAME_PATTERN.fullmatch(name):
            raise ValueError(f"--name {name!r}: use letters, digits, '.', '_' and '-' (at most "
                             "128, starting with a letter or digit): it is the Ray job's "
                             "submission id too")
        return name
    stamp = time.strftime("%Y%m%d-%H%M%S") + f"-{int(time.time() * 1000) % 1000:03d}"
    base = re.sub(r"[^A-Za-z0-9._-]+", "-", config.name or config_path.stem).strip("-._")
    return f"{base or 'campaign'}-{stamp}"[:128]


def _dashboard_url(address: str) -> str:
    address = address.strip().rstrip("/")
    if "://" not in address:
        address = f"http://{address}"
    parts = urlsplit(address)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"--address {address!r}: expected the dashboard's URL, "
                         "e.g. http://HEAD:8265")
    return address


def _is_local(address: str) -> bool:
    """Whether the dashboard at `address` runs on this machine (best effort)."""
    host = urlsplit(address).hostname or ""
    try:
        return ipaddress.ip_address(host).is_loopback  # an IP address: no lookup
    except ValueError:
        pass
    if host in ("localhost", socket.gethostname()):
        return True
    try:
        return ipaddress.ip_address(socket.gethostbyname(host)).is_loopback
    except (OSError, ValueError):
        return False


def _shared_database(db: str | None, cluster_db: bool, address: str) -> str | None:
    """The URL the job gets as its $AUTOML_DB: --db, else $AUTOML_DB here; None with
    --cluster-db (the nodes' own). ValueError (one line) when there is none, or when it is
    no database both the cluster and this machine reach."""
    if cluster_db:
        if db is not None:
            raise ValueError("--cluster-db and --db: give one (--cluster-db uses the "
                             "$AUTOML_DB of the cluster's nodes)")
        return None
    db = db or os.environ.get("AUTOML_DB") or None
    if db is None:
        raise ValueError("no database for the job: give --db postgresql+psycopg://USER@HOST/DB "
                         "(or set $AUTOML_DB), or --cluster-db if the cluster's nodes set "
                         "their own $AUTOML_DB; without one the job would write SQLite into "
                         "Ray's temporary working directory, invisible to `automl status`")
    return _job_database(db, _is_local(address))


def _job_database(url: str, local: bool) -> str:
    """The --db URL as the job will use it: a relative SQLite path made absolute (the job's
    working directory is a temporary one); SQLite is refused unless the cluster runs on this
    machine (a file elsewhere is invisible to `automl status` here)."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    from automl.store import safe_url

    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ValueError("--db: not a database URL (expected e.g. "
                         "postgresql+psycopg://user@host/db)") from None
    if parsed.get_backend_name() == "sqlite":
        path = parsed.database or ""
        if path in ("", ":memory:") or path.startswith("file:"):
            raise ValueError(f"--db {safe_url(url)}: a job needs a database file or server, "
                             "not an in-memory database")
        url = parsed.set(database=str(Path(path).expanduser().absolute())).render_as_string(
            hide_password=False)
        if not local:
            raise ValueError(
                f"--db {safe_url(url)}: a SQLite database is a file on one machine, and this "
                "cluster is not on this one: the job would write it on the cluster's head "
                "node, where `automl status` here cannot read it; use a PostgreSQL URL both "
                "reach")
    if parsed.password:
        error_console.print(
            "[bold yellow]warning:[/] the database password travels in the job's runtime_env "
            "($AUTOML_DB), which `ray job list` and dashboard users can read; prefer a URL "
            "without it and PGPASSWORD or ~/.pgpass on the cluster's nodes, or --cluster-db",
            highlight=False)
    return url


def _connect(address: str) -> Any:
    """A JobSubmissionClient for `address`; unreachable or not a Ray dashboard: ValueError."""
    parts = urlsplit(address)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:  # fail within seconds (the client's own requests have no timeout)
        socket.create_connection((parts.hostname, port), timeout=CONNECT_TIMEOUT_S).close()
    except OSError as error:
        reason = error.strerror or str(error) or type(error).__name__
        raise ValueError(f"cannot reach the Ray dashboard at {address}: {reason}") from None

    from ray.exceptions import AuthenticationError
    from ray.job_submission import JobSubmissionClient

    for name in RAY_LOGGERS:  # their INFO lines (package upload, socket closed) are noise here
        logging.getLogger(name).setLevel(logging.WARNING)
    try:
        with _only_address(address):
            return JobSubmissionClient(address)
    except AuthenticationError:
        from workers.ray_executor import token_hint

        raise ValueError(token_hint(f"the Ray dashboard at {address}")) from None
    except Exception as error:  # noqa: BLE001 - any failure here means "not a usable Jobs API"
        raise ValueError(f"no Ray Jobs API at {address}: {_one_line(error)}") from None


@contextmanager
def _only_address(address: str) -> Iterator[None]:
    """Ray lets $RAY_API_SERVER_ADDRESS or $RAY_ADDRESS override the client's address; here
    --address wins (it defaults to $RAY_API_SERVER_ADDRESS anyway)."""
    saved = {key: os.environ.get(key) for key in ("RAY_API_SERVER_ADDRESS", "RAY_ADDRESS")}
    os.environ.pop("RAY_ADDRESS", None)
    os.environ["RAY_API_SERVER_ADDRESS"] = address
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _ship_config(config_path: Path, config: CampaignConfig, directory: Path) -> None:
    """The job's working_dir: the config file alone, under its own name. An
    `executor.address` in it goes (the job's driver connects to the cluster it runs in)."""
    target = directory / config_path.name
    text = config_path.read_text()
    if config.executor.address is None:
        target.write_text(text)
        return
    data = yaml.safe_load(text)
    data["executor"].pop("address", None)
    target.write_text(yaml.safe_dump(data, sort_keys=False))


def _follow(client: Any, job_id: str, out: Any) -> tuple[str, str | None]:
    """Stream the job's logs to `out` until it ends; its final status and message."""

    async def tail() -> None:
        async for chunk in client.tail_job_logs(job_id):
            out.write(chunk)
            out.flush()

    try:
        asyncio.run(tail())
    except KeyboardInterrupt:
        _stopped_following(job_id, client.get_address())
    except Exception as error:  # noqa: BLE001 - the log stream broke: poll instead
        error_console.print(f"[bold yellow]warning:[/] the log stream ended early "
                            f"({escape(_one_line(error))}); waiting for the job to end",
                            highlight=False)
    try:
        while True:
            info = client.get_job_info(job_id)
            if info.status.is_terminal():
                return str(info.status), info.message
            time.sleep(2.0)
    except KeyboardInterrupt:
        _stopped_following(job_id, client.get_address())
    except (RuntimeError, OSError) as error:
        error_console.print(f"[bold red]error:[/] lost the job's status at "
                            f"{escape(client.get_address())} ({escape(_one_line(error))}); "
                            "the job may still be running", highlight=False)
        raise typer.Exit(1) from None


def _stopped_following(job_id: str, address: str) -> NoReturn:
    error_console.print(f"stopped following; the job keeps running (stop it with `ray job stop "
                        f"{escape(job_id)} --address {escape(address)}`)", highlight=False)
    raise typer.Exit(130)


def _print_submitted(payload: dict[str, Any], fallback_database: str) -> None:
    rows = [("dashboard", payload["dashboard_url"]),
            ("runs", payload["entrypoint"]),
            ("database", payload["database"]
             or f"the cluster's $AUTOML_DB, else the config's {fallback_database}"),
            ("progress", payload["status_command"]),
            ("logs", f"ray job logs -f {payload['job_id']} --address {payload['address']}")]
    console.print(f"submitted campaign [bold]{escape(payload['campaign'])}[/] as Ray job "
                  f"{escape(payload['job_id'])} ({payload['status']})", highlight=False,
                  soft_wrap=True)
    for label, value in rows:
        console.print(f"  {label:<10} {escape(value)}", highlight=False, soft_wrap=True)


def _one_line(error: Any) -> str:
    text = " ".join(str(error).split())
    return text if len(text) <= 300 else text[:297] + "..."


def stop(
    campaign: Annotated[str, typer.Argument(help="Campaign name.")],
    address: Annotated[str, typer.Option(help="Its Ray cluster (auto, ray://HOST:10001).")
                       ] = "auto",
) -> None:
    """Ask a detached campaign to stop at a safe point (what is in flight is stored)."""
    from workers.campaign_actor import stop_detached
    from workers.ray_executor import ensure_ray

    with user_errors():
        ensure_ray(address)
        if not stop_detached(campaign):
            raise ValueError(f"no detached campaign {campaign!r} runs on the cluster at "
                             f"{address}")
    console.print(f"campaign {escape(campaign)}: stop requested")


def register(app: typer.Typer) -> None:
    """Add `submit` and `stop` to the `automl` command."""
    app.command()(submit)
    app.command()(stop)
