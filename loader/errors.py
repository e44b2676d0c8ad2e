"""The one exception type users see: a message plus what to do about it."""

from __future__ import annotations


class WdhError(Exception):
    """An error a user can act on. `hint` says what to do."""

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message}\n  → {self.hint}" if self.hint else self.message


class SourceError(WdhError):
    """Bad input in a source file: names file, sheet, row and column where they are known."""

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        sheet: str | None = None,
        row: int | None = None,
        column: str | None = None,
        hint: str | None = None,
    ):
        where = ", ".join(
            f"{label} {value}"
            for label, value in (("file", file), ("sheet", sheet), ("row", row), ("column", column))
            if value is not None
        )
        super().__init__(f"{message} ({where})" if where else message, hint)
        self.file, self.sheet, self.row, self.column = file, sheet, row, column
