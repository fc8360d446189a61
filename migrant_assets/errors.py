"""Errors a person can act on (issue 10): what failed, where, and what to change.

Every error caused by the user's input or configuration (a mapping file, a study config, a data
file) is a :class:`InputError`. Its message is one short paragraph that never contains a raw
identifier (phone number, owner id) or a line of a data file: only file paths, column names, row
numbers and counts. The command line prints it without a traceback (``--verbose`` shows one).
"""

from __future__ import annotations

import re


class InputError(Exception):
    """A problem with the user's data or configuration.

    ``what``: what failed; ``where``: the file (and row) or config key; ``fix``: what to change.
    """

    def __init__(self, what: str, where: str | None = None, fix: str | None = None) -> None:
        self.what, self.where, self.fix = what, where, fix
        super().__init__(self.paragraph())

    def paragraph(self) -> str:
        parts = [self.what.rstrip(".") + "."]
        if self.where:
            parts.append(f"Where: {self.where}.")
        if self.fix:
            parts.append(f"Fix: {self.fix.rstrip('.')}.")
        return " ".join(parts)


class MappingError(InputError):
    """The mapping file (data contract) does not fit the data files it describes."""


class ConfigError(InputError):
    """The study config is invalid or unsafe for the data source (e.g. a weak key)."""


_REDACT = re.compile(r"[0-9][0-9 ()+.\-]{4,}[0-9]|[A-Za-z0-9_@.+\-]{24,}")
#: A value DuckDB quotes in a message ("Could not convert string '9643ae6487eb6d14' to INT64"):
#: a hexadecimal id or any other value from a file, shown only by its length.
_QUOTED_VALUE = re.compile(r"'([^']{6,})'")
#: ... or bytes in double quotes ('value "\xAE\xC8..." is not valid UTF8': a binary id), where
#: DuckDB also quotes paths and column names, which stay.
_DOUBLE_QUOTED_VALUE = re.compile(r'"([^"]*)"')


def redact(message: str, limit: int = 300, names: dict[str, str] | None = None) -> str:
    """An error message without anything that could be an identifier or a data line: values
    DuckDB quotes (6 characters or more), runs of six or more digits and long tokens are
    replaced, and the text is cut to ``limit``. Each path of ``names`` is shown as its label
    (``contract.shown``), which is never an identifier: a date in a file's name stays readable."""
    first = message.strip().splitlines()[0] if message.strip() else ""
    paths = sorted(names or {}, key=len, reverse=True)  # a path may begin another
    for i, path in enumerate(paths):
        first = first.replace(path, f"\x00{i}\x00")
    out = _QUOTED_VALUE.sub(lambda m: f"'<{len(m.group(1))} characters>'", first)
    out = _DOUBLE_QUOTED_VALUE.sub(
        lambda m: f'"<{len(m.group(1))} characters>"' if "\\x" in m.group(1)
        or not m.group(1).replace("\x00", "").isprintable() else m.group(0), out)
    out = _REDACT.sub("<redacted>", out)
    for i, path in enumerate(paths):
        out = out.replace(f"\x00{i}\x00", names[path])
    return out if len(out) <= limit else out[:limit] + "…"
