"""A database password given in the URL's query string (libpq's ``?password=``, ``sslpassword=``) is
kept out of the one-line error as the one before the "@" is; it was printed whole."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from pipeline.cli.main import app
from pipeline.core.db import describe_url

SECRET = "S3cr3tPassw0rd"


@pytest.mark.parametrize(("url", "shown"), [
    (f"postgresql+psycopg://nosuchrole@127.0.0.1:5432/test?password={SECRET}",
     "postgresql+psycopg://nosuchrole@127.0.0.1:5432/test?password=***"),
    (f"postgresql+psycopg:///test?host=127.0.0.1&user=nosuchrole&password={SECRET}",
     "postgresql+psycopg:///test?host=127.0.0.1&password=***&user=nosuchrole"),
])
def test_a_password_in_the_query_string_is_hidden(url: str, shown: str) -> None:
    result = CliRunner().invoke(app, ["--db", url, "calls", "list"], catch_exceptions=False)
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: cannot open database {shown}: connection failed: connection to server at \"127.0.0.1\", "
        "port 5432 failed: FATAL: role \"nosuchrole\" does not exist; check FUNDRADAR_DB or --db\n")


def test_every_secret_parameter_is_hidden_also_in_a_url_sqlalchemy_cannot_read() -> None:
    assert describe_url(f"postgresql+psycopg://u@db/x?sslpassword={SECRET}&sslmode=require") == \
        "postgresql+psycopg://u@db/x?sslmode=require&sslpassword=***"
    assert SECRET not in describe_url(f"postgres ql://u@db:port/x?password={SECRET}")
    assert SECRET not in describe_url(f"postgresql://a@b@db/x?PASSWORD={SECRET}")
