"""The small interface every importer module implements, and the per-file read statistics."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from sms_audit.model import Message

#: Called with (work done, total work or None); units are the importer's own (bytes or rows).
ProgressCallback = Callable[[int, "int | None"], None]


@dataclass(slots=True)
class ReadOptions:
    """What the caller tells an importer. The library never prompts: it asks these callbacks."""

    region: str | None = None
    on_progress: ProgressCallback | None = None
    #: Returns the passphrase of an encrypted backup, or None when none can be had (cron).
    get_passphrase: Callable[[str], str | None] | None = None


@dataclass(slots=True)
class ReadStats:
    """Counts and facts about one archive, filled in while it is read (kept in the import record)."""

    read: int = 0  # messages yielded
    skipped: int = 0  # invalid records skipped (empty <sms/>, date="today")
    excluded: int = 0  # valid non-message records left out (tapbacks, group events, call logs)
    warnings: list[str] = field(default_factory=list)
    details: dict[str, str] = field(default_factory=dict)  # schema version, device, iOS version ...


def read_head(path: Path, size: int) -> bytes:
    """The first ``size`` bytes of a file, for content sniffing; b"" for a folder or unreadable file."""
    try:
        with open(path, "rb") as stream:
            return stream.read(size)
    except OSError:
        return b""


class Importer(Protocol):
    """An importer is a module with these names (like mvt's module list)."""

    NAME: str  # machine name, e.g. "sbr_xml"
    DESCRIPTION: str  # human name, e.g. "SMS Backup & Restore XML"

    def sniff(self, path: Path) -> bool:
        """True when the content (never the extension) says this importer can read ``path``."""
        ...

    def read(self, path: Path, options: ReadOptions, stats: ReadStats) -> Iterator[Message]:
        """Yield messages; raise UnsupportedArchive/CorruptArchive/TruncatedArchive (after yielding
        every complete record before a break). Must open ``path`` read-only and never modify it."""
        ...
