"""Errors a person can act on (issue 10): what failed, where, and what to change.

Every error caused by the user's input or configuration (a mapping file, a study config, a data
file) is a :class:`InputError`. Its message is one short paragraph that never contains a raw
identifier (phone number, owner id) or a line of a data file: only file paths, column names, row
numbers and counts. The command line prints it without a traceback (``--verbose`` shows one).
"""

from __future__ import annotations


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
