"""Typed errors raised by the library and the exit codes the CLI maps them to."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Process exit codes; documented in the README's exit-code table."""

    OK = 0
    FINDINGS = 1
    USAGE = 2
    DATA_ERROR = 3
    INTERNAL = 70  # a bug in sms-audit (EX_SOFTWARE); the one-line error asks for a report
    INTERRUPTED = 130
    TERMINATED = 143  # SIGTERM (128 + 15): a scheduler's timeout, a shutdown


class Terminated(KeyboardInterrupt):
    """SIGTERM or SIGHUP, raised in the main thread by the command line's handler so that an import
    rolls back and temporary copies are removed, as on Ctrl-C (a KeyboardInterrupt: ``except
    Exception`` never swallows it). ``exit_code`` is 128 + the signal's number."""

    def __init__(self, signum: int = 15) -> None:
        super().__init__(signum)
        self.exit_code = 128 + signum


class SmsAuditError(Exception):
    """Base class: a problem the user can act on, shown as one line (plus an optional hint)."""

    exit_code: ExitCode = ExitCode.DATA_ERROR

    def __init__(self, message: str, *, path: str | None = None, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.path = path
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class UsageError(SmsAuditError):
    """Bad options or arguments (exit 2)."""

    exit_code = ExitCode.USAGE


class UnsupportedArchive(SmsAuditError):
    """The input is not an archive format sms-audit reads."""


class CorruptArchive(SmsAuditError):
    """The input is a known format but cannot be read (damaged, wrong passphrase, ...)."""


class TruncatedArchive(CorruptArchive):
    """The input ends early; every complete record before the break was still read."""

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        records_read: int = 0,
        line: int | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message, path=path, hint=hint)
        self.records_read = records_read
        self.line = line


class StoreError(SmsAuditError):
    """The message store cannot be opened or written."""
