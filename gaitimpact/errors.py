"""The project's own errors: each carries a one-line message and the process exit code."""

from __future__ import annotations

EXIT_USAGE = 2
EXIT_RUNTIME = 1


class GaitImpactError(Exception):
    """Base error: a one-line, user-facing message and an exit code."""

    exit_code: int = EXIT_RUNTIME

    def __init__(self, message: str, *, exit_code: int | None = None) -> None:
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code


class InputError(GaitImpactError):
    """Bad user input (file, field, unit, flag): exit code 2."""

    exit_code = EXIT_USAGE

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        line: int | None = None,
        field: str | None = None,
    ) -> None:
        where = ""
        if path is not None:
            where = str(path)
            if line is not None:
                where += f":{line}"
            if field is not None:
                where += f" [{field}]"
            where += ": "
        elif field is not None:
            where = f"[{field}] "
        super().__init__(where + message)
        self.message = message
        self.path = path
        self.line = line
        self.field = field

    def at(self, path: str | object) -> InputError:
        """The same error naming `path` (for errors raised below the layer that knows the file)."""
        return InputError(self.message, path=str(path), line=self.line, field=self.field)


class DeviceError(GaitImpactError):
    """A BLE device problem (not found, wrong profile, lost for good): exit code 1."""

    exit_code = EXIT_RUNTIME
