"""A streaming byte filter that repairs the invalid character references Android XML writers emit.

SMS Backup & Restore (and Signal/Silence exports through Android's KXmlSerializer) write emoji as
UTF-16 surrogate pairs, ``&#55357;&#56832;``, which every conforming XML parser rejects
(FORMATS.md §1.5). This filter sits between the file and the parser and, chunk by chunk:

* joins a high+low surrogate pair into one reference (``&#128512;``, i.e. 😀);
* turns lone surrogates and references to XML-illegal characters into ``&#xFFFD;``;
* drops raw control bytes that XML 1.0 forbids (they never occur inside UTF-8 sequences).

References split across two reads are held back until they are complete. Newlines are never
added or removed, so parser line numbers still point into the original file.
"""

from __future__ import annotations

import re
from typing import IO

_REF = re.compile(rb"&#(?:[xX]([0-9A-Fa-f]{1,8})|([0-9]{1,10}));")
_ILLEGAL_BYTES = bytes(range(0x09)) + b"\x0b\x0c" + bytes(range(0x0E, 0x20))
_REPLACEMENT = b"&#xFFFD;"
_MAX_REF = 24  # longest reference we keep back across a chunk boundary ("&#x" + 8 digits + ";")


def _value(hex_digits: bytes | None, dec_digits: bytes | None) -> int:
    return int(hex_digits, 16) if hex_digits else int(dec_digits or b"0")


def _is_xml_char(cp: int) -> bool:
    return (
        cp in (0x9, 0xA, 0xD) or 0x20 <= cp <= 0xD7FF or 0xE000 <= cp <= 0xFFFD or 0x10000 <= cp <= 0x10FFFF
    )


def repair_charrefs(data: bytes) -> bytes:
    """Repair one complete piece of XML text (no reference may be cut at its end)."""
    if b"&#" in data:
        data = _join_surrogates(data)
    return data.translate(None, _ILLEGAL_BYTES)


def _join_surrogates(data: bytes) -> bytes:
    parts: list[bytes] = []
    pos = 0
    pending_high: re.Match[bytes] | None = None
    for match in _REF.finditer(data):
        cp = _value(match.group(1), match.group(2))
        if pending_high is not None:
            if match.start() == pending_high.end() and 0xDC00 <= cp <= 0xDFFF:
                high = _value(pending_high.group(1), pending_high.group(2))
                joined = 0x10000 + ((high - 0xD800) << 10) + (cp - 0xDC00)
                parts.append(data[pos : pending_high.start()] + b"&#%d;" % joined)
                pos, pending_high = match.end(), None
                continue
            parts.append(data[pos : pending_high.start()] + _REPLACEMENT)
            pos, pending_high = pending_high.end(), None
        if 0xD800 <= cp <= 0xDBFF:
            pending_high = match
        elif not _is_xml_char(cp):
            parts.append(data[pos : match.start()] + _REPLACEMENT)
            pos = match.end()
    if pending_high is not None:
        parts.append(data[pos : pending_high.start()] + _REPLACEMENT)
        pos = pending_high.end()
    parts.append(data[pos:])
    return b"".join(parts)


class CharRefFilter:
    """A read-only binary stream wrapper that applies :func:`repair_charrefs` while streaming."""

    def __init__(self, raw: IO[bytes], chunk_size: int = 1 << 20) -> None:
        self._raw = raw
        self._chunk_size = chunk_size
        self._pending = b""  # raw bytes held back: a possibly incomplete reference at the end
        self._out = b""  # repaired bytes not yet handed out, from offset self._pos
        self._pos = 0
        self.eof = False
        self.bytes_read = 0
        self.last_line = 1  # line number of the last byte passed on (newlines are never changed)

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        while not self.eof and (size < 0 or len(self._out) - self._pos < size):
            self._fill()
        end = len(self._out) if size < 0 else min(len(self._out), self._pos + size)
        out = self._out[self._pos : end]
        self._pos = end
        self.last_line += out.count(b"\n")
        return out

    def _fill(self) -> None:
        chunk = self._raw.read(self._chunk_size)
        self.bytes_read += len(chunk)
        if not chunk:
            self.eof = True
            self._out = self._out[self._pos :] + repair_charrefs(self._pending)
            self._pos = 0
            self._pending = b""
            return
        data = self._pending + chunk
        cut = self._safe_cut(data)
        self._out = self._out[self._pos :] + repair_charrefs(data[:cut])
        self._pos = 0
        self._pending = data[cut:]

    @staticmethod
    def _safe_cut(data: bytes) -> int:
        """Where to split so no reference, and no surrogate pair, is cut in two."""
        cut = len(data)
        amp = data.rfind(b"&", max(0, len(data) - _MAX_REF))
        if amp >= 0 and b";" not in data[amp:]:
            cut = amp
        # A complete high surrogate right before the cut may pair with a reference after it.
        start = data.rfind(b"&#", max(0, cut - _MAX_REF), cut)
        if start >= 0:
            match = _REF.fullmatch(data, start, cut)
            if match and 0xD800 <= _value(match.group(1), match.group(2)) <= 0xDBFF:
                cut = start
        return cut
