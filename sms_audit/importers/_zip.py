"""ZIP containers read defensively: encrypted or exotic members, damage and zip bombs become
one-line CorruptArchive errors, and inflation is bounded (``Limits.max_inflate_ratio``)."""

from __future__ import annotations

import lzma
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from sms_audit.errors import CorruptArchive
from sms_audit.importers.base import Limits

# Methods Python's zipfile inflates: stored, deflate, bzip2, lzma (APPNOTE.TXT 4.4.5).
_METHODS = frozenset({zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA})
_LINE_CHUNK = 64 * 1024
_EXTRACT_HINT = (
    "extract it with 7-Zip or your system's unzip (it asks for the password), then import the file"
)
# What zipfile raises for damaged data (truncated streams, bad CRCs, bad offsets, bad headers, and the
# decompressors' own errors: zlib.error, OSError from bz2, LZMAError).
ZIP_ERRORS = (
    zipfile.BadZipFile,
    zlib.error,
    lzma.LZMAError,
    EOFError,
    OSError,
    ValueError,
    NotImplementedError,
)


def is_zip(path: Path) -> bool:
    """True for a file that starts like a ZIP archive (never raises)."""
    try:
        return path.is_file() and zipfile.is_zipfile(path)
    except OSError:
        return False


@contextmanager
def open_zip(path: Path) -> Iterator[zipfile.ZipFile]:
    """Open a ZIP read-only; a damaged central directory is a CorruptArchive."""
    try:
        archive = zipfile.ZipFile(path)
    except ZIP_ERRORS as exc:
        raise CorruptArchive(f"damaged ZIP file ({exc})", path=str(path)) from None
    with archive:
        yield archive


def check_member(info: zipfile.ZipInfo, path: Path, limits: Limits) -> None:
    """Refuse an encrypted member, an unsupported method and a suspicious inflation ratio."""
    if info.flag_bits & 0x1 or info.compress_type == 99:
        raise CorruptArchive(
            f"the backup inside the zip ({info.filename}) is encrypted", path=str(path), hint=_EXTRACT_HINT
        )
    if info.compress_type not in _METHODS:
        raise CorruptArchive(
            f"the backup inside the zip ({info.filename}) uses an unsupported compression "
            f"(method {info.compress_type}); it may be encrypted",
            path=str(path),
            hint=_EXTRACT_HINT,
        )
    ratio = info.file_size / _compressed_size(info, path)
    if info.file_size > 1 << 20 and ratio > limits.max_inflate_ratio:
        raise CorruptArchive(
            f"refusing a possible ZIP bomb: {info.filename} inflates {ratio:.0f}× "
            f"(limit {limits.max_inflate_ratio}×)",
            path=str(path),
            hint="if you trust this file, raise the limit with SMS_AUDIT_MAX_INFLATE_RATIO",
        )


def _compressed_size(info: zipfile.ZipInfo, path: Path) -> int:
    """The member's compressed size, never more than the whole file: a header may lie about it."""
    try:
        size = path.stat().st_size
    except OSError:
        size = info.compress_size
    return max(1, min(info.compress_size, size))


@contextmanager
def open_member(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, path: Path, limits: Limits
) -> Iterator[IO[bytes]]:
    """A checked member (see :func:`check_member`), read through :class:`GuardedMember`."""
    check_member(info, path, limits)
    try:
        stream = archive.open(info)
    except ZIP_ERRORS as exc:
        raise CorruptArchive(f"damaged ZIP member {info.filename} ({exc})", path=str(path)) from None
    with stream:
        yield GuardedMember(stream, info, path, limits)  # type: ignore[misc]


class GuardedMember:
    """A member stream whose damage is a CorruptArchive and whose inflated size is bounded.

    The header's sizes can lie: inflation stops with an error once the member gives more than
    ``max_inflate_ratio`` times its compressed size (and more than 1 MiB).
    """

    def __init__(self, stream: IO[bytes], info: zipfile.ZipInfo, path: Path, limits: Limits) -> None:
        self._stream = stream
        self._info = info
        self._path = path
        self._compressed = _compressed_size(info, path)
        self._budget = max(1 << 20, self._compressed * limits.max_inflate_ratio)
        self._pending = b""  # read ahead by readline
        self._offset = 0
        self.bytes_read = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        if self._offset < len(self._pending):  # what readline read ahead comes first
            end = len(self._pending) if size < 0 else min(len(self._pending), self._offset + size)
            data, self._offset = self._pending[self._offset : end], end
            return data
        return self._inflate(size)

    def _inflate(self, size: int) -> bytes:
        try:
            data = self._stream.read(size)
        except ZIP_ERRORS as exc:
            raise CorruptArchive(
                f"damaged ZIP member {self._info.filename} after {self.bytes_read} bytes ({exc})",
                path=str(self._path),
                hint="the records before the damage were read",
            ) from None
        self.bytes_read += len(data)
        if self.bytes_read > self._budget:
            raise CorruptArchive(
                f"refusing a possible ZIP bomb: {self._info.filename} inflates beyond "
                f"{self._budget // self._compressed}× its compressed size",
                path=str(self._path),
                hint="if you trust this file, raise the limit with SMS_AUDIT_MAX_INFLATE_RATIO",
            )
        return data

    def readline(self, size: int = -1) -> bytes:
        """One line (at most ``size`` bytes), found in 64 KiB steps: zipfile's own readline reads an
        overlong line 512 bytes at a time (seconds for a 100 MB line)."""
        parts: list[bytes] = []
        got = 0
        while size < 0 or got < size:
            if self._offset >= len(self._pending):
                self._pending, self._offset = self._inflate(_LINE_CHUNK), 0
                if not self._pending:
                    break
            stop = len(self._pending) if size < 0 else min(len(self._pending), self._offset + size - got)
            newline = self._pending.find(b"\n", self._offset, stop)
            end = stop if newline < 0 else newline + 1
            parts.append(self._pending[self._offset : end])
            got += end - self._offset
            self._offset = end
            if newline >= 0:
                break
        return b"".join(parts)


# --- a ZIP cut short ---------------------------------------------------------------------------------
# A copy or download interrupted mid-way leaves the local headers and data of the first members but
# no central directory (it is written last), so zipfile cannot open it. Its first member can still be
# read from its local header (APPNOTE.TXT 4.3.7: signature, version, flags, method, time, date, CRC,
# sizes, name length, extra length, name, extra, then the data).
_LOCAL_HEADER = b"PK\x03\x04"
_LOCAL_FIXED = 30


def starts_like_zip(path: Path) -> bool:
    """True for a file that begins with a ZIP local file header (a whole ZIP, or one cut short)."""
    try:
        with open(path, "rb") as stream:
            return stream.read(4) == _LOCAL_HEADER
    except OSError:
        return False


@contextmanager
def open_cut_zip(path: Path, limits: Limits) -> Iterator[tuple[str, _CutMember]]:
    """The first member of a ZIP whose central directory is missing: (its name, its data as far as
    the file goes, inflated). Raises CorruptArchive for an encrypted or unsupported member."""
    with open(path, "rb") as raw:
        header = raw.read(_LOCAL_FIXED)
        if len(header) < _LOCAL_FIXED or header[:4] != _LOCAL_HEADER:
            raise CorruptArchive("damaged ZIP file (no local file header)", path=str(path))
        flags = int.from_bytes(header[6:8], "little")
        method = int.from_bytes(header[8:10], "little")
        name_length = int.from_bytes(header[26:28], "little")
        extra_length = int.from_bytes(header[28:30], "little")
        name = raw.read(name_length).decode("utf-8" if flags & 0x800 else "cp437", "replace")
        raw.read(extra_length)
        if flags & 0x1 or method == 99:
            raise CorruptArchive(
                f"the backup inside the zip ({name}) is encrypted", path=str(path), hint=_EXTRACT_HINT
            )
        if method not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise CorruptArchive(
                f"the zip is cut short and its backup ({name}) uses compression method {method}, which "
                "cannot be read without the end of the file",
                path=str(path),
                hint="copy the whole file again",
            )
        budget = max(1 << 20, path.stat().st_size * limits.max_inflate_ratio)
        # a stored member's size is in its header unless a data descriptor follows it (flag bit 3)
        stored = None if flags & 0x8 else int.from_bytes(header[18:22], "little")
        yield name, _CutMember(raw, method == zipfile.ZIP_DEFLATED, budget, name, path, stored)


class _CutMember:
    """A member's data read from its local header on, inflated until the data or the file ends."""

    def __init__(
        self, raw: IO[bytes], deflated: bool, budget: int, name: str, path: Path, stored: int | None = None
    ) -> None:
        self._raw = raw
        self._left = stored if not deflated else None  # bytes of a stored member still to read
        self._inflater = zlib.decompressobj(-zlib.MAX_WBITS) if deflated else None
        self._budget = budget
        self._name = name
        self._path = path
        self._buffer = b""
        self.bytes_read = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        want = size if size >= 0 else 1 << 62
        while len(self._buffer) < want:
            step = 1 << 16 if self._left is None else min(1 << 16, self._left)
            chunk = self._raw.read(step) if step else b""
            if not chunk:
                break
            if self._left is not None:
                self._left -= len(chunk)
            if self._inflater is None:
                self._buffer += chunk
                continue
            try:
                self._buffer += self._inflater.decompress(chunk)
            except zlib.error:  # the cut or damage: what was inflated before it is kept
                break
            if self._inflater.eof:  # the member is complete; what follows is the next one
                break
            if self.bytes_read + len(self._buffer) > self._budget:
                raise CorruptArchive(
                    f"refusing a possible ZIP bomb: {self._name} inflates beyond {self._budget >> 20} MiB",
                    path=str(self._path),
                    hint="if you trust this file, raise the limit with SMS_AUDIT_MAX_INFLATE_RATIO",
                )
        data, self._buffer = self._buffer[:want], self._buffer[want:]
        self.bytes_read += len(data)
        return data
