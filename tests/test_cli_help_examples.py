"""Every command and command group has ``--help`` with an example that runs ``fundradar``."""

from __future__ import annotations

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
