"""Every move of the workflow through the CLI, allowed or not, against the workflow the help states
("draft -> consortium -> writing -> submitted -> granted | rejected; withdrawn from any non-final
status; one step back allowed before submitted"): an allowed move prints old -> new and is recorded;
a forbidden one is one line, exit 2, and changes nothing."""

from __future__ import annotations

import json

import pytest

from tests.test_applications import seed

FORWARD = ["draft", "consortium", "writing", "submitted"]
STATUSES = [*FORWARD, "granted", "rejected", "withdrawn"]
PATH = {"draft": [], "consortium": ["consortium"], "writing": ["consortium", "writing"],
        "submitted": ["consortium", "writing", "submitted"],
        "granted": ["consortium", "writing", "submitted", "granted"],
        "rejected": ["consortium", "writing", "submitted", "rejected"], "withdrawn": ["withdrawn"]}


def allowed(source: str, target: str) -> bool:
    if source in ("granted", "rejected", "withdrawn"):
        return False
    if target == "withdrawn":
        return True
    if source == "submitted":
        return target in ("granted", "rejected")
    step = FORWARD.index(source)
    return target in FORWARD and (FORWARD.index(target) == step + 1 or FORWARD.index(target) == step - 1)


@pytest.mark.parametrize("source", STATUSES)
def test_every_move_from(cli, engine, source: str) -> None:
    ids = seed(engine)
    env = {"FUNDRADAR_USER": "anna", "NO_COLOR": "1"}

    def run(*args: str):
        return cli("--as-of", "2026-08-22T09:00+02:00", *args, env=env)

    apps = []  # one application per target, each of its own idea (an idea applies once to a call)
    for target in STATUSES:
        idea = run("ideas", "add", f"Idea for {source} -> {target}")
        number = idea.stdout.split("#")[1].split(":")[0]
        added = run("applications", "add", number, str(ids["bsr"]))
        assert added.exit_code == 0, added.output
        app = added.stdout.split("#")[1].split(":")[0]
        for status in PATH[source]:
            assert run("applications", "move", app, status).exit_code == 0
        apps.append((app, target))
    for app, target in apps:
        result = run("applications", "move", app, target)
        after = json.loads(run("applications", "show", app, "--json").stdout)["status"]
        if allowed(source, target):
            assert (result.exit_code, result.stdout, after) == (
                0, f"Application #{app}: {source} -> {target}\n", target), (source, target)
        else:
            assert result.exit_code == 2 and result.stdout == "" and after == source, (source, target)
            assert len(result.stderr.splitlines()) == 1 and result.stderr.startswith(
                f"Error: application #{app} cannot move from {source} to {target}; "), result.stderr
