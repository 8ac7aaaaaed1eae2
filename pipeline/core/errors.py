"""One exception hierarchy for fundradar; the CLI turns each into a one-line message and an exit code.

    FundradarError                  base; never raised directly
    ├── UserInputError              exit 2: what was typed or configured is wrong
    │   ├── ConfigError             the strategy / rules YAML is invalid (file, line, key)
    │   ├── NotFoundError           no record with that id
    │   ├── ValidationError         a value is invalid (PIC number, date in the past, CSV row, …)
    │   │   └── BadRowsError        an input file with bad rows: one line per problem, then a summary
    │   └── TransitionError         a status change the workflow does not allow
    └── RuntimeFailure              exit 1: the system could not do it
        ├── SourceError             one source failed (carries the source name)
        │   ├── FetchError          HTTP error, timeout, refused connection, oversized body
        │   └── ParseError          the source answered but the content is malformed
        ├── StoreError              the database could not be read or written
        └── DeliveryError           Slack refused or could not be reached

Every message is meant to be read by a person: it names the thing and says what to do.
"""

from __future__ import annotations


class FundradarError(Exception):
    """Base class of every error fundradar reports to a user."""

    exit_code = 1


class UserInputError(FundradarError):
    exit_code = 2


class ConfigError(UserInputError):
    """An invalid configuration file; ``str()`` is ``file:line: key: what is expected``."""

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None,
                 key: str | None = None, more: list[str] | None = None) -> None:
        self.path, self.line, self.key, self.detail = path, line, key, message
        self.more = more or []  # the file's other problems, one ``file:line: key: what`` each
        where = path or "config"
        if line is not None:
            where += f":{line}"
        super().__init__(f"{where}: {key + ': ' if key else ''}{message}")


class NotFoundError(UserInputError):
    pass


class ValidationError(UserInputError):
    pass


class BadRowsError(ValidationError):
    """Every problem of an input file at once (``problems``: one ``file:line: field: what`` each), so
    one run shows all there is to fix; ``str()`` is the summary line."""

    def __init__(self, message: str, problems: list[str]) -> None:
        self.problems = problems
        super().__init__(message)


class TransitionError(UserInputError):
    pass


class RuntimeFailure(FundradarError):
    exit_code = 1


class SourceError(RuntimeFailure):
    """A source failed; ``source`` names it so one failure can be reported without stopping others."""

    def __init__(self, source: str, message: str) -> None:
        self.source = source
        super().__init__(f"source {source!r}: {message}")


class FetchError(SourceError):
    pass


class ParseError(SourceError):
    pass


class StoreError(RuntimeFailure):
    pass


class DeliveryError(RuntimeFailure):
    pass
