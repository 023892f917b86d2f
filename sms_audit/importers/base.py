"""The small interface every importer module implements, and the per-file read statistics."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from sms_audit.model import Message, Normalizer, Record
from sms_audit.normalize import epoch_us

#: Called with (work done, total work or None); units are the importer's own (bytes or rows).
ProgressCallback = Callable[[int, "int | None"], None]


@dataclass(frozen=True, slots=True)
class Limits:
    """Size limits that keep memory bounded on hostile or broken files (README "Safety").

    ``max_body_bytes``: a longer message text is cut and marked; ``max_inflate_ratio``: a ZIP
    member or zlib file (adb TelephonyBackupAgent) inflating more than this many times its
    compressed size (and more than 1 MiB) is refused as a possible bomb;
    ``max_record_bytes``: a longer JSON record (one NDJSON line) is skipped and counted.
    Override with ``SMS_AUDIT_MAX_BODY_BYTES``, ``SMS_AUDIT_MAX_INFLATE_RATIO``,
    ``SMS_AUDIT_MAX_RECORD_BYTES``.
    """

    max_body_bytes: int = 1_000_000
    max_inflate_ratio: int = 200
    max_record_bytes: int = 64_000_000

    @classmethod
    def from_env(cls) -> Limits:
        import os

        values: dict[str, int] = {}
        for name in ("max_body_bytes", "max_inflate_ratio", "max_record_bytes"):
            raw = os.environ.get(f"SMS_AUDIT_{name.upper()}")
            if raw:
                try:
                    values[name] = int(raw)
                except ValueError:
                    values[name] = 0
                if values[name] < 1:  # 0 or less would cut every text or refuse every archive
                    from sms_audit.errors import UsageError

                    raise UsageError(f"SMS_AUDIT_{name.upper()} must be a whole number above 0, not {raw!r}")
        return cls(**values)


@dataclass(slots=True)
class ReadOptions:
    """What the caller tells an importer. The library never prompts: it asks these callbacks."""

    region: str | None = None
    on_progress: ProgressCallback | None = None
    #: Returns the passphrase of an encrypted backup, or None when none can be had (cron).
    get_passphrase: Callable[[str], str | None] | None = None
    limits: Limits = field(default_factory=Limits.from_env)
    #: Which CSV column is which (``--csv-map``): keys date, direction, address, body[, date_format].
    csv_map: dict[str, str] | None = None


@dataclass(slots=True)
class ReadStats:
    """Counts and facts about one archive, filled in while it is read (kept in the import record)."""

    read: int = 0  # messages yielded
    skipped: int = 0  # invalid records skipped (empty <sms/>, date="today")
    excluded: int = 0  # valid non-message records left out (tapbacks, group events, call logs)
    warnings: list[str] = field(default_factory=list)
    details: dict[str, str] = field(default_factory=dict)  # schema version, device, iOS version ...
    skip_reasons: Counter[str] = field(default_factory=Counter)

    def skip(self, reason: str) -> None:
        """Count one invalid record and why (summarised by :meth:`skip_summary`)."""
        self.skipped += 1
        self.skip_reasons[reason] += 1

    def skip_summary(self) -> list[str]:
        """One line per reason a record was skipped, most frequent first."""
        return [
            f"skipped {n} record{'s' if n != 1 else ''}: {reason}"
            for reason, n in self.skip_reasons.most_common()
        ]


def read_head(path: Path, size: int) -> bytes:
    """The first ``size`` bytes of a file, for content sniffing; b"" for a folder or unreadable file."""
    try:
        with open(path, "rb") as stream:
            return stream.read(size)
    except OSError:
        return b""


_DECIMAL = re.compile(r"\s*([+-]?[0-9]{1,20})\s*")


def parse_int(text: str | None) -> int | None:
    """The integer a text field holds (ASCII digits, an optional sign, spaces around), else None.

    ``"12"`` → 12, ``" -1 "`` → -1; ``"1.5"``, ``"²"``, ``"٣"``, ``""`` and anything over 20 digits
    (no count, type or time of any format is longer; Python refuses to convert 4,300) → None.
    ``str.isdigit`` is no guard for ``int()``: it accepts superscripts and other scripts' digits.
    """
    found = _DECIMAL.fullmatch(text) if isinstance(text, str) else None
    return int(found.group(1)) if found else None


def build_messages(
    records: Iterable[Record], *, source_format: str, source_file: str, region: str | None
) -> Iterator[Message]:
    """Normalise an importer's records one by one (the per-message view of :class:`Normalizer`)."""
    normalizer = Normalizer(region)
    for record in records:
        yield normalizer.message(record, source_format, source_file)


class Importer(Protocol):
    """An importer is a module with these names (like mvt's module list)."""

    NAME: str  # machine name, e.g. "sbr_xml"
    DESCRIPTION: str  # human name, e.g. "SMS Backup & Restore XML"

    def sniff(self, path: Path) -> bool:
        """True when the content (never the extension) says this importer can read ``path``."""
        ...

    def read_records(self, path: Path, options: ReadOptions, stats: ReadStats) -> Iterator[Record]:
        """Yield records; raise UnsupportedArchive/CorruptArchive/TruncatedArchive (after yielding
        every complete record before a break). Must open ``path`` read-only and never modify it.
        ``options.region`` is not used here: records hold raw values only."""
        ...

    def read(self, path: Path, options: ReadOptions, stats: ReadStats) -> Iterator[Message]:
        """:meth:`read_records`, normalised with ``options.region``."""
        ...


class Skip(str):
    """An invalid record, and why (counted in ``ReadStats.skipped``; the reason reaches the user)."""


class Exclude(str):
    """A valid record that is not a message (a delivery report, a tapback): what it is."""


def account(result: Record | Skip | Exclude, stats: ReadStats) -> Record | None:
    """Count a skipped or excluded record in ``stats``; return the record otherwise."""
    if isinstance(result, Skip):
        stats.skip(str(result))
        return None
    if isinstance(result, Exclude):
        stats.excluded += 1
        return None
    return result


def main_time_us(value: object, *, apple: bool = False) -> int | Skip:
    """The main time of a record in Unix µs, or why the record must be skipped (FORMATS.md §6).

    A secondary time (``date_sent``) uses :func:`secondary_time_us` instead: an impossible one is
    only set to null.
    """
    if value is None or value in ("", "null", 0, "0"):
        return Skip("no date")
    try:
        us = epoch_us(value, apple=apple)  # type: ignore[arg-type]
    except (ValueError, TypeError):
        return Skip("date is not a number")
    if us is None:
        return Skip("date outside 1990–2100 in every unit (s, ms, µs, ns)")
    return us


def secondary_time_us(value: object, *, apple: bool = False) -> int | None:
    """A secondary time in Unix µs, or None when it is missing or impossible."""
    try:
        return epoch_us(value, apple=apple)  # type: ignore[arg-type]
    except (ValueError, TypeError):
        return None
