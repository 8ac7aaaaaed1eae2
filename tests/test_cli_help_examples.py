"""Every command and command group has ``--help`` with an example that runs ``fundradar``."""

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
