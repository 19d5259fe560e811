"""The README's examples, run, so that they cannot drift from the code (issue 30).

Every expectation comes from README.md itself; this file only knows how to read it:

* A ```console block is a shell session: a line starting with `$ ` is a command, the lines up to
  the next `$ ` line are what it prints (stdout and stderr together). Each block runs as one
  bash script (so a variable set by one command is seen by the next), from a scratch directory
  laid out like the repository root: `docs/`, `configs/`, `search_spaces/` and `examples/` are
  links to the repository's, `.venv/bin` is first on PATH, COLUMNS=80, and the default database
  `sqlite:///results/automl.db` holds the campaign "exp2", made once for this module with
  `automl run configs/autonumerics_exp2.yaml --max-evals 50 --name exp2`.
* Output is compared the way doctest compares with ELLIPSIS: `...` matches any text, line breaks
  included; trailing spaces of a line are ignored. A command shown without output is checked
  for its exit status only. The exit status must be 2 where the output shown starts with
  `error:` (a user error), else 0. A block with `automl reproduce` (it re-evaluates; ~10 s) is
  marked slow, and so is a block after `<!-- readme-test: slow -->` (it trains).
* Blocks that need a Ray cluster or a PostgreSQL server (a command with `--address` or a
  `postgresql` URL) are not run: their `automl` verbs and options must exist, that is all.
* `<!-- readme-test: shape -->` before a console block: its single command is not run; the
  module's campaign output (the same `automl run`, 50 evaluations) must have the shape of the
  output shown: the same summary sentence with other numbers and name, the same table title,
  header and column borders.
* The ```yaml block must load with the config loader, the ```sql block run against the
  module's database, the ```python block run (in a subprocess) against it, the ```toml block
  parse and name an entry-point group this package uses; the command table must name exactly
  the CLI's verbs, with options they have; the zoo table must list exactly `automl zoo`'s files.
"""

from __future__ import annotations

import doctest
import json
import os
import re
import shlex
import shutil
import sqlite3
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
BIN = Path(sys.executable).parent
MARKER = "@@readme-test-exit"
SHAPE = "<!-- readme-test: shape -->"
SLOW = "<!-- readme-test: slow -->"
CAMPAIGN = ["automl", "run", "configs/autonumerics_exp2.yaml", "--max-evals", "50",
            "--name", "exp2"]


def fenced_blocks(text: str) -> list[tuple[str, int, str, str]]:
    """(language, line number of the opening fence, body, the line before the fence)."""
    blocks, lines, index = [], text.splitlines(), 0
    while index < len(lines):
        match = re.match(r"^```(\w*)\s*$", lines[index])
        if match:
            start, body = index, []
            index += 1
            while not lines[index].startswith("```"):
                body.append(lines[index])
                index += 1
            before = lines[start - 1] if start else ""
            blocks.append((match.group(1), start + 1, "\n".join(body), before))
        index += 1
    return blocks


def session(body: str) -> list[tuple[str, str]]:
    """(command, expected output) for each `$ ` line of a console block."""
    steps: list[tuple[str, list[str]]] = []
    for line in body.splitlines():
        if line.startswith("$ "):
            steps.append((line[2:], []))
        else:
            assert steps, f"output before the first command: {line!r}"
            steps[-1][1].append(line)
    return [(command, "\n".join(output)) for command, output in steps]


README_TEXT = README.read_text()
BLOCKS = fenced_blocks(README_TEXT)


def blocks_of(language: str) -> list[tuple[int, str, str]]:
    return [(line, body, before) for lang, line, body, before in BLOCKS if lang == language]


def needs_a_server(body: str) -> bool:
    return "--address" in body or "postgresql" in body


CONSOLE = [pytest.param(line, body, id=f"line{line}", marks=[pytest.mark.slow] * (
               # it re-evaluates (~10 s), or trains (`<!-- readme-test: slow -->`)
               "automl reproduce" in body or before == SLOW))
           for line, body, before in blocks_of("console")
           if before != SHAPE and not needs_a_server(body)]
NOT_RUN = [(line, body) for line, body, before in blocks_of("console") if needs_a_server(body)]
SHAPED = [(line, body) for line, body, before in blocks_of("console") if before == SHAPE]


def environment() -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key != "AUTOML_DB"}
    env.update(PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}", COLUMNS="80",
               PYTHONPATH=str(ROOT))
    return env


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A scratch 'repository root' whose default database holds campaign exp2, and what
    making that campaign printed on stdout."""
    work = tmp_path_factory.mktemp("readme")
    for name in ("docs", "configs", "search_spaces", "examples"):
        (work / name).symlink_to(ROOT / name)
    made = subprocess.run(CAMPAIGN, cwd=work, env=environment(), capture_output=True,
                          text=True, timeout=120)
    assert made.returncode == 0, made.stderr
    return work, made.stdout


def run_session(work: Path, steps: list[tuple[str, str]]) -> list[tuple[str, int]]:
    """Run the commands as one bash script; each command's output and exit status."""
    script = ["exec 2>&1"]
    for command, _ in steps:
        script += [command, f"printf '\\n{MARKER} %d\\n' $?"]
    done = subprocess.run(["bash", "-c", "\n".join(script)], cwd=work, env=environment(),
                          capture_output=True, text=True, timeout=120)
    parts = re.split(rf"\n{MARKER} (\d+)\n", done.stdout)
    assert len(parts) == 2 * len(steps) + 1, done.stdout
    return [(parts[2 * i], int(parts[2 * i + 1])) for i in range(len(steps))]


def matches(expected: str, got: str) -> bool:
    def tidy(text: str) -> str:
        return "\n".join(line.rstrip() for line in text.strip("\n").splitlines()) + "\n"
    return doctest.OutputChecker().check_output(tidy(expected), tidy(got), doctest.ELLIPSIS)


def test_the_readme_has_examples_to_run() -> None:
    assert CONSOLE and SHAPED and blocks_of("yaml") and blocks_of("sql")
    assert blocks_of("python") and blocks_of("toml")


@pytest.mark.parametrize("line,body", CONSOLE)
def test_console_block(workdir: tuple[Path, str], line: int, body: str) -> None:
    steps = session(body)
    for (command, expected), (got, status) in zip(steps, run_session(workdir[0], steps),
                                                  strict=True):
        want_status = 2 if expected.startswith("error:") else 0
        assert status == want_status, f"README line {line}: $ {command}\n{got}"
        if expected:
            assert matches(expected, got), (
                f"README line {line}: $ {command}\nREADME shows:\n{expected}\nit printed:\n{got}")


def test_example_files_are_what_the_readme_shows() -> None:
    """`cat FILE` in a console block shows the whole file; the files it names exist."""
    shown = [(command.split()[1], expected) for param in CONSOLE
             for body in param.values[1:]
             for command, expected in session(body) if command.startswith("cat ")]
    assert shown
    for path, expected in shown:
        assert (ROOT / path).read_text() == expected + "\n", path


def shape(text: str) -> tuple[str, list[str], str, list[list[int]]]:
    """The summary sentence (the lines before `database:`, joined), the table's title and
    header lines, its bottom border, and where each table body line has its borders."""
    lines = [line.rstrip() for line in text.splitlines()]
    database = next(i for i, line in enumerate(lines) if line.startswith("database: "))
    header_end = next(i for i, line in enumerate(lines) if line.startswith("┡"))
    header = [line.strip() for line in lines[database + 1:header_end + 1]]
    borders = [[i for i, char in enumerate(line) if char == "│"]
               for line in lines[header_end + 1:-1]]
    return " ".join(lines[:database]), header, lines[-1], borders


def summary_pattern(summary: str) -> re.Pattern[str]:
    """The sentence with each number and the campaign's name free, and any spacing."""
    words = summary.split()
    words[1] = "NAME"  # "campaign NAME (id N) finished: ..."
    pattern = r"\s+".join(re.escape(word) for word in words)
    pattern = re.sub(r"\d[\d,]*(?:\\\.\d+)?", lambda _: r"[\d,]+(?:\.\d+)?", pattern)
    return re.compile(pattern.replace("NAME", r"\S+"))


@pytest.mark.parametrize("line,body", SHAPED, ids=[f"line{line}" for line, _ in SHAPED])
def test_shape_of_the_demo_output(workdir: tuple[Path, str], line: int, body: str) -> None:
    (command, expected), = session(body)
    assert "demo.sh" in command or command.startswith(" ".join(CAMPAIGN[:3]))
    summary, header, bottom, borders = shape(expected)
    got_summary, got_header, got_bottom, got_borders = shape(workdir[1])
    assert summary_pattern(summary).fullmatch(got_summary), (summary, got_summary)
    assert got_header == header, workdir[1]
    assert got_bottom == bottom, workdir[1]
    assert all(columns == borders[0] for columns in borders + got_borders), workdir[1]


def cli_commands() -> dict[str, set[str]]:
    """Each `automl` verb (`db upgrade` as one) and its option names."""
    import typer

    from automl.cli.app import app

    def walk(command: typer.core.TyperCommand, prefix: str) -> dict[str, set[str]]:
        if hasattr(command, "commands"):  # a group: `automl db upgrade` is one verb
            found: dict[str, set[str]] = {}
            for name, sub in command.commands.items():
                found.update(walk(sub, f"{prefix} {name}".strip()))
            return found
        return {prefix: {opt for param in command.params for opt in param.opts
                         if opt.startswith("-")}}

    return walk(typer.main.get_command(app), "")


def used_verb(words: list[str], commands: dict[str, set[str]]) -> str:
    verb = " ".join(words[1:3]) if " ".join(words[1:3]) in commands else words[1]
    assert verb in commands, f"automl {verb}: no such command"
    return verb


def test_command_table_names_every_verb_with_its_options() -> None:
    commands = cli_commands()
    section = README_TEXT.split("## The `automl` command", 1)[1].split("\n\n", 2)[1]
    rows = [row for row in section.splitlines() if row.startswith("| `automl")]
    named: set[str] = set()
    for row in rows:
        cell = row.split(" | ")[0]
        for usage in re.findall(r"`(automl [^`]+)`", cell):
            words = usage.replace("\\|", "|").split()
            verb = used_verb(words, commands)
            named.add(verb)
            for option in re.findall(r"(?<![\w-])(--?[a-z][\w-]*)", usage):
                assert option in commands[verb], f"{usage}: automl {verb} has no {option}"
    assert named == set(commands), f"in the table only: {named - set(commands)}; " \
                                   f"in the CLI only: {set(commands) - named}"


@pytest.mark.parametrize("line,body", NOT_RUN, ids=[f"line{line}" for line, _ in NOT_RUN])
def test_console_block_needing_a_server_names_real_options(line: int, body: str) -> None:
    commands = cli_commands()
    for command, _ in session(body):
        words = shlex.split(command, comments=True)
        assert words[0] == "automl", command
        verb = used_verb(words, commands)
        for option in (word.split("=")[0] for word in words if word.startswith("-")):
            assert option in commands[verb], f"README line {line}: automl {verb} has no {option}"


def test_zoo_table_lists_every_shipped_program() -> None:
    section = README_TEXT.split("## Discovered programs (the zoo)", 1)[1].split("\n## ", 1)[0]
    in_readme = re.findall(r"^\| `([\w/]+/discovered/[\w.]+\.dsl)`", section, re.MULTILINE)
    listed = subprocess.run(["automl", "zoo", "--json"], env=environment(), cwd=ROOT,
                            capture_output=True, text=True, timeout=60, check=True)
    files = {str(Path(entry["file"]).relative_to("search_spaces"))
             for entry in json.loads(listed.stdout)}
    assert len(in_readme) == len(set(in_readme))
    assert set(in_readme) == files


def test_yaml_config_loads() -> None:
    from automl.config import parse_config

    (line, body, _), = blocks_of("yaml")
    config = parse_config(body, f"README.md:{line}")
    assert config.space.name == "autonumerics"


def test_sql_runs_on_a_campaign_database(workdir: tuple[Path, str]) -> None:
    (_, query, _), = blocks_of("sql")
    with sqlite3.connect(workdir[0] / "results" / "automl.db") as connection:
        rows = connection.execute(query).fetchall()
    assert 0 < len(rows) <= 10
    assert [value for _, value in rows] == sorted(value for _, value in rows)


def test_python_block_runs_on_a_campaign_database(workdir: tuple[Path, str]) -> None:
    (_, code, _), = blocks_of("python")
    try:
        import pandas  # noqa: F401
    except ImportError:  # the README says `frame` needs pandas, which the base install lacks
        code = "\n".join(line for line in code.splitlines() if ".frame(" not in line)
    code += "\nprint(campaign, len(front), len(best), len(chain))\n"
    done = subprocess.run([sys.executable, "-c", code], cwd=workdir[0], env=environment(),
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    name, front, best, chain = done.stdout.split()
    assert name == "exp2" and int(front) > 0 and int(best) == 5 and int(chain) >= 1


def test_toml_block_names_an_entry_point_group_of_this_package() -> None:
    (_, body, _), = blocks_of("toml")
    groups = tomllib.loads(body)["project"]["entry-points"]
    ours = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["entry-points"]
    assert set(groups) <= set(ours)


def test_docs_examples_has_no_file_the_readme_does_not_use() -> None:
    examples = {path.name for path in (ROOT / "docs" / "examples").iterdir()}
    assert examples and all(f"docs/examples/{name}" in README_TEXT for name in examples)
    assert shutil.which("bash")
