"""Archive importers: an explicit list (like mvt's), content sniffing and one read entry point."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

from sms_audit.archive_formats import CATALOG
from sms_audit.errors import UnsupportedArchive
from sms_audit.importers._sqlite import explain_corrupt
from sms_audit.importers.base import Importer, ReadOptions, ReadStats
from sms_audit.model import Message

#: Every supported format's module, in sniffing order (add new formats to catalog.CATALOG).
IMPORTERS: tuple[ModuleType, ...] = tuple(
    importlib.import_module(f"sms_audit.importers.{f.module}") for f in CATALOG
)

SUPPORTED_HINT = "supported: " + ", ".join(m.DESCRIPTION for m in IMPORTERS)


def importer_names() -> list[str]:
    return [f.name for f in CATALOG]


def get_importer(name: str) -> Importer:
    for module in IMPORTERS:
        if module.NAME == name:
            return module  # type: ignore[return-value]
    raise KeyError(name)


def detect(path: Path) -> Importer:
    """Pick the importer by content (magic bytes, root element, tables, folder layout)."""
    if not path.exists():
        raise UnsupportedArchive("no such file or directory", path=str(path))
    for module in IMPORTERS:
        if module.sniff(path):
            return module  # type: ignore[return-value]
    if path.is_file() and path.stat().st_size == 0:
        raise UnsupportedArchive("empty file", path=str(path), hint="the copy may have failed; copy it again")
    # Let importers explain look-alikes they recognise (a call log, an encrypted export ...).
    for module in IMPORTERS:
        explain = getattr(module, "explain_unsupported", None)
        if explain is not None:
            explain(path)
    explain_corrupt(path)
    if path.is_dir():
        raise UnsupportedArchive(
            f"no archive found in {path} ({SUPPORTED_HINT.replace('supported', 'looked for')})"
        )
    raise UnsupportedArchive("not a supported archive", path=str(path), hint=SUPPORTED_HINT)


def _whole_folder(path: Path) -> bool:
    """A folder that is one archive (an iOS backup, a phone maker's backup folder), read as a whole."""
    return any(getattr(m, "FOLDER", False) and m.sniff(path) for m in IMPORTERS)


def expand_folders(paths: list[Path], input_format: str | None = None) -> list[Path]:
    """Archives to read: a folder that is no archive itself (an iOS backup folder is one) stands
    for the archives directly inside it, sorted by name, each detected on its own.

    So ``sms-audit import ~/backups/sms/`` imports every SB&R file there, and a folder holding an
    SB&R file beside adb telephony files imports both; a folder with no archive is kept as is and
    gets the error "no archive found in FOLDER".
    """
    expanded: list[Path] = []
    for path in paths:
        if input_format or not path.is_dir() or _whole_folder(path):
            expanded.append(path)
            continue
        inside = [
            p
            for p in sorted(path.iterdir())
            if not p.name.startswith(".")
            and (_whole_folder(p) if p.is_dir() else any(m.sniff(p) for m in IMPORTERS))
        ]
        expanded.extend(inside or [path])
    return expanded


def read_archive(
    path: Path,
    options: ReadOptions | None = None,
    stats: ReadStats | None = None,
    input_format: str | None = None,
) -> Iterator[Message]:
    """Detect (or take ``input_format``) and read one archive."""
    importer = get_importer(input_format) if input_format else detect(path)
    return importer.read(path, options or ReadOptions(), stats if stats is not None else ReadStats())


__all__ = [
    "IMPORTERS",
    "ReadOptions",
    "ReadStats",
    "detect",
    "expand_folders",
    "get_importer",
    "read_archive",
]
