"""Every command and command group has ``--help`` with an example, and the example runs."""

from __future__ import annotations

import shlex
from pathlib import Path

import typer
from typer._click import core as click  # the click typer runs

from pipeline.cli.main import app


def _paths() -> list[tuple[str, ...]]:
    """Every command's words, groups included, as the help lists them."""
    root = typer.main.get_command(app)
    found: list[tuple[str, ...]] = []

    def walk(command: click.Command, path: tuple[str, ...], ctx: click.Context) -> None:
        found.append(path)
        if hasattr(command, "list_commands"):  # a group (typer's own click has no Group class to test)
            for name in command.list_commands(ctx):
                sub = command.get_command(ctx, name)
                assert sub is not None, name
                walk(sub, (*path, name), click.Context(sub, parent=ctx, info_name=name))

    walk(root, (), click.Context(root, info_name="fundradar"))
    return found


def test_every_command_and_group_has_help_with_an_example(cli) -> None:
    paths = _paths()
    assert ("calls",) in paths and ("strategy", "keywords", "add") in paths and len(paths) > 50
    missing = []
    for path in paths:
        result = cli(*path, "--help")
        assert result.exit_code == 0, (path, result.output)
        lines = [line.strip() for line in result.stdout.splitlines()]
        examples = [line for line in lines if line.startswith("Example: ")]
        if not examples or "fundradar" not in examples[0]:
            missing.append(" ".join(path))
    assert missing == []


INPUTS = ("--corpus", "--benchmark", "--judged", "--replay")  # options that read a recorded file


def test_the_recorded_files_an_example_names_exist(cli, samples: Path, eval_dir: Path) -> None:
    # an example a reader copies runs as it is: the samples and benchmarks beside the checkout
    root = Path(__file__).resolve().parent.parent
    named: list[tuple[tuple[str, ...], str]] = []
    for path in _paths():
        lines = cli(*path, "--help").stdout.splitlines()
        starts = [i for i, line in enumerate(lines) if line.strip().startswith("Example: ")]
        if not starts:
            continue
        paragraph = []
        for line in lines[starts[0]:]:
            if not line.strip():
                break
            paragraph.append(line.strip())
        example = " ".join(paragraph).removeprefix("Example: ")
        words = shlex.split(example)
        named += [(path, word) for before, word in zip(["", *words], words, strict=False)
                  if word.startswith("../shared/") or before in INPUTS]
    shared = {"../shared/samples": samples, "../shared/eval": eval_dir}  # beside the checkout, or as set

    def where(word: str) -> Path:
        for prefix, folder in shared.items():
            if word == prefix or word.startswith(prefix + "/"):
                return folder / word.removeprefix(prefix).lstrip("/")
        return root / word

    assert named and [(path, word) for path, word in named if not where(word).exists()] == []


def test_the_partner_file_the_import_example_names_is_in_the_checkout() -> None:
    # a newcomer copies the example in a fresh clone: the sample file the README imports, not a
    # partners.csv nobody has
    root = Path(__file__).resolve().parent.parent
    words = shlex.split(_example(("partners", "import")))
    assert words[:3] == ["fundradar", "partners", "import"] and (root / words[3]).is_file(), words


# Examples that cannot run here: the live sources (no network), a service that runs until stopped, a
# PostgreSQL server named "db".
NOT_RUN = {(): "fetches the live sources", ("serve",): "runs until stopped",
           ("db", "upgrade"): "needs the PostgreSQL server of its URL"}


def _example(path: tuple[str, ...]) -> str:
    from typer.testing import CliRunner

    lines = CliRunner().invoke(app, [*path, "--help"], env={"COLUMNS": "400"}).stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip().startswith("Example: "))
    paragraph = []
    for line in lines[start:]:
        if not line.strip():
            break
        paragraph.append(line.strip())
    return " ".join(paragraph).removeprefix("Example: ")


def test_every_example_runs_as_written(samples: Path, eval_dir: Path, tmp_path: Path,
                                       monkeypatch) -> None:
    """Each --help example, run as written in a checkout beside the shared samples, on a database of
    the recorded samples with the ideas, partners and applications the examples name (each example on
    its own copy of it), exits 0."""
    import shutil
    import sqlite3

    from typer.testing import CliRunner

    root = Path(__file__).resolve().parent.parent
    checkout = tmp_path / "checkout"
    (checkout / "config" / "clusters").mkdir(parents=True)
    (checkout / "data").mkdir()
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "samples").symlink_to(samples)
    (tmp_path / "shared" / "eval").symlink_to(eval_dir)
    example = (root / "config" / "strategy.example.yaml").read_text(encoding="utf-8")
    for name in ("strategy.yaml", "strategy.new.yaml", "clusters/greentech-dk.yaml"):  # as the README
        (checkout / "config" / name).write_text(example, encoding="utf-8")          # has them copied
    old_name = tmp_path / "greentech.yaml"  # the strategy's earlier name, for `strategy rename`
    old_name.write_text(example.replace("name: greentech-dk", "name: greentech", 1), encoding="utf-8")
    (checkout / "tests" / "fixtures").mkdir(parents=True)
    shutil.copy(root / "tests" / "fixtures" / "partners.csv", checkout / "tests" / "fixtures")
    monkeypatch.chdir(checkout)
    monkeypatch.setenv("FUNDRADAR_CONFIG", str(checkout / "config" / "strategy.yaml"))
    prepared = tmp_path / "prepared.db"

    def fundradar(db: Path, *args: str, input: str | None = None):
        return CliRunner().invoke(app, ["--db", f"sqlite:///{db}", *args], input=input)

    prelude = [("run", "--replay", "../shared/samples"),
               *[("ideas", "add", f"Idea {n}", "--focus", "offshore_energy") for n in (1, 2, 3)],
               ("--config", str(old_name), "ideas", "add", "Idea stored under the old name"),
               *[("partners", "add", f"Partner {n}", "--country", country, "--type", "sme")
                 for n, country in enumerate(["DE", "SE", "NO", "FI", "EE", "LV", "LT"], 1)],
               *[("applications", "add", "1", str(call)) for call in (20, 21, 22, 23)],
               ("applications", "add", "2", "24", "--partner", "7:partner"),
               ("applications", "move", "5", "consortium"), ("applications", "move", "5", "writing")]
    for args in prelude:
        result = fundradar(prepared, *args)
        assert result.exit_code == 0, (args, result.output)

    failed, ran = [], 0
    for path in _paths():
        if path in NOT_RUN:
            continue
        ran += 1
        line = _example(path)
        words = shlex.split(line)
        assert words[0] == "fundradar" and "&&" not in words, line
        db = tmp_path / f"example-{'-'.join(path)}.db"
        with sqlite3.connect(prepared) as source, sqlite3.connect(db) as copy:
            source.backup(copy)
        result = fundradar(db, *words[1:], input="n\n")
        if result.exit_code != 0:
            failed.append((line, result.exit_code, result.output[-300:]))
    assert failed == [] and ran == len(_paths()) - len(NOT_RUN) > 50
