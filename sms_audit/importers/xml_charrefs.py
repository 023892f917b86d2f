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

from sms_audit.importers._textfile import text_codec

_REF = re.compile(rb"&#(?:[xX]([0-9A-Fa-f]{1,8})|([0-9]{1,10}));")
_ILLEGAL_BYTES = bytes(range(0x09)) + b"\x0b\x0c" + bytes(range(0x0E, 0x20))
_REPLACEMENT = b"&#xFFFD;"
_MAX_REF = 24  # longest reference we keep back across a chunk boundary ("&#x" + 8 digits + ";")


#: Appended where an overlong value or text was cut (ASCII, so it is valid in any XML value).
TRUNCATION_MARK = b" [... truncated by sms-audit: longer than the size limit]"


def _first_delimiter(data: bytes) -> int:
    found = [i for i in (data.find(b'"'), data.find(b"<")) if i >= 0]
    return min(found) if found else len(data)


def _safe_prefix(data: bytes, size: int) -> bytes:
    """At most ``size`` bytes of ``data`` that end neither inside a UTF-8 sequence nor a reference."""
    cut = max(0, min(size, len(data)))
    while cut > 0 and cut < len(data) and 0x80 <= data[cut] < 0xC0:  # a continuation byte follows
        cut -= 1
    amp = data.rfind(b"&", max(0, cut - _MAX_REF), cut)
    if amp >= 0 and b";" not in data[amp:cut]:
        cut = amp
    return data[:cut]


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
    """A read-only binary stream wrapper that applies :func:`repair_charrefs` while streaming.

    With ``max_value`` it also bounds memory: a run of more than ``max_value`` bytes without a
    ``"`` or ``<`` can only be inside one attribute value or text node (XML forbids both characters
    there), so it is cut to ``max_value`` bytes, marked with :data:`TRUNCATION_MARK`, and counted in
    ``truncated``. A 200 MB body then costs 1 MB, never 1 GB of parser memory.
    """

    def __init__(self, raw: IO[bytes], chunk_size: int = 1 << 20, *, max_value: int | None = None) -> None:
        self._raw = raw
        self._chunk_size = min(chunk_size, max_value) if max_value else chunk_size
        self._pending = b""  # raw bytes held back: a possibly incomplete reference at the end
        self._out = b""  # repaired bytes not yet handed out, from offset self._pos
        self._pos = 0
        self.eof = False
        self.bytes_read = 0
        self.last_line = 1  # line number of the last byte passed on (newlines are never changed)
        self._max_value = max_value
        self._run = 0  # bytes since the last '"' or '<' handed on
        self._dropping = False  # inside a run that was cut: drop until its end
        self.truncated = 0

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
            self._out = self._out[self._pos :] + self._limit(repair_charrefs(self._pending))
            self._pos = 0
            self._pending = b""
            return
        data = self._pending + chunk
        cut = self._safe_cut(data)
        self._out = self._out[self._pos :] + self._limit(repair_charrefs(data[:cut]))
        self._pos = 0
        self._pending = data[cut:]

    def _limit(self, out: bytes) -> bytes:
        """Cut runs longer than ``max_value`` (see the class docstring). Chunks are never longer
        than ``max_value``, so only a run that spans chunks can exceed it."""
        if not self._max_value or not out:
            return out
        first = _first_delimiter(out)
        head = out[:first]
        if self._dropping:
            head = b""
        elif self._run + len(head) > self._max_value:
            head = _safe_prefix(head, self._max_value - self._run) + TRUNCATION_MARK
            self._dropping = True
            self.truncated += 1
        if first == len(out):  # the run goes on
            self._run += len(head)
            return head
        self._dropping = False
        last = max(out.rfind(b'"'), out.rfind(b"<"))
        self._run = len(out) - last - 1
        return head + out[first:]

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


# --- encodings ------------------------------------------------------------------------------------

_BOMS = (
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\xef\xbb\xbf", "utf-8"),
    (b"\xfe\xff", "utf-16-be"),
    (b"\xff\xfe", "utf-16-le"),
)
# Without a BOM, the first character "<" tells UTF-16/32 and their byte order (XML 1.0 Appendix F).
_NO_BOM = (
    (b"\x00\x00\x00<", "utf-32-be"),
    (b"<\x00\x00\x00", "utf-32-le"),
    (b"\x00<\x00", "utf-16-be"),
    (b"<\x00", "utf-16-le"),
)
_DECLARED = re.compile(rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")
# Chinese exports declare GBK or GB2312; GB18030 decodes both (a superset) and every code point.
_ALIASES = {"gbk": "gb18030", "gb2312": "gb18030", "cp936": "gb18030", "x-gbk": "gb18030"}


def detect_xml_encoding(head: bytes) -> str:
    """The encoding of an XML document from its first bytes (XML 1.0 Appendix F): a BOM, else the
    byte pattern of "<" in UTF-16/32, else the declaration's ``encoding``, else UTF-8.

    A BOM wins over the declaration (a PowerShell pipe re-saves UTF-8 files as UTF-16LE with a BOM
    and leaves ``encoding="UTF-8"`` in them). Returns a Python codec name.
    """

    for bom, name in _BOMS:
        if head.startswith(bom):
            return name
    for pattern, name in _NO_BOM:
        if head.startswith(pattern):
            return name
    match = _DECLARED.match(head)
    if match:
        declared = match.group(1).decode("ascii").lower()
        declared = _ALIASES.get(declared, declared)
        # an unknown name, or a codec that is no charset (zlib, rot13): let the parser report it
        return text_codec(declared) or "utf-8"
    return "utf-8"


def decode_head(head: bytes) -> str:
    """The first bytes of an XML document as text (for sniffing), whatever its encoding."""
    encoding = detect_xml_encoding(head)
    return head.decode(encoding, errors="replace").lstrip("\ufeff")


class Utf8Transcoder:
    """A read-only binary stream that re-encodes an XML document in another encoding as UTF-8.

    The text is decoded incrementally (undecodable bytes become U+FFFD: a damaged byte loses one
    character, never the file), the BOM is dropped and the declaration's ``encoding`` is rewritten
    to UTF-8 so the parser reads the bytes it is given. Line breaks are unchanged.
    """

    def __init__(self, raw: IO[bytes], encoding: str, chunk_size: int = 1 << 20) -> None:
        import codecs

        self._raw = raw
        self._decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
        self._chunk_size = chunk_size
        self._buffer = b""
        self._first = True
        self._eof = False

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        while not self._eof and (size < 0 or len(self._buffer) < size):
            chunk = self._raw.read(self._chunk_size)
            text = self._decoder.decode(chunk, final=not chunk)
            self._eof = not chunk
            if self._first and text:
                text = _rewrite_declaration(text.lstrip("\ufeff"))
                self._first = False
            self._buffer += text.encode("utf-8", errors="replace")
        if size < 0:
            out, self._buffer = self._buffer, b""
        else:
            out, self._buffer = self._buffer[:size], self._buffer[size:]
        return out


def _rewrite_declaration(text: str) -> str:
    return re.sub(
        r"""^(\s*<\?xml[^>]*?encoding\s*=\s*)(["'])[A-Za-z0-9._-]+\2""", r"\1\2UTF-8\2", text, count=1
    )
