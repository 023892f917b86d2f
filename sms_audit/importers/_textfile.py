"""Text archives: which encoding a file is in, and its text read as a stream of lines.

The order is the one every text format here needs: a byte-order mark first (UTF-8/16/32 — a
PowerShell pipe writes UTF-16LE with one), then a charset the file declares (an XML prolog), then
strict UTF-8, then detection by charset-normalizer (Chinese exports are often GBK; GBK and GB2312
are read as their superset GB18030 so no valid byte sequence is lost).
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

#: Longest first: the UTF-32LE mark begins with the UTF-16LE one.
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
#: Detected legacy Chinese encodings are read as their superset (GB18030 contains GBK and GB2312).
_SUPERSET = {"gb2312": "gb18030", "gbk": "gb18030", "cp936": "gb18030", "hz": "gb18030", "ascii": "utf-8"}
_XML_ENCODING = re.compile(rb"""<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._:-]{1,40})["']""")
DETECT_BYTES = 256 * 1024  # how much charset-normalizer looks at
MAX_LINE_CHARS = 16 * 1024 * 1024  # a text line this long is damage (or a bomb), not a message


class LineTooLong(Exception):
    """A line exceeded :data:`MAX_LINE_CHARS` (memory stays bounded); ``line`` is its number."""

    def __init__(self, line: int) -> None:
        super().__init__(f"line {line} is longer than {MAX_LINE_CHARS:,} characters")
        self.line = line


@dataclass(frozen=True, slots=True)
class TextEncoding:
    """A Python codec name, the length of the byte-order mark to skip, and how it was chosen."""

    codec: str
    bom: int = 0
    how: str = "UTF-8"

    def describe(self) -> str:
        """``gb18030 (detected)`` — for an import's details."""
        return f"{self.codec} ({self.how})"


# Text codecs that are no charset a file can be written in: they raise on any input (undefined),
# accept only strict errors (idna, punycode), turn backslashes into other characters (escapes) or
# are 7-bit (UTF-7: no phone or exporter writes it).
_NOT_CHARSETS = frozenset({"undefined", "idna", "punycode", "unicode-escape", "raw-unicode-escape", "utf-7"})


def text_codec(name: str) -> str | None:
    """The Python codec for a charset a file names (``GBK`` → gb18030, ``UTF8`` → utf-8), or None.

    None for an unknown name, one with a NUL or a surrogate in it, a codec that is no text
    encoding (``zlib``, ``base64``, ``rot13``, ``hex``: ``bytes.decode`` refuses them) and the
    text codecs no file is written in (:data:`_NOT_CHARSETS`)."""
    try:
        info = codecs.lookup(name)
    except (LookupError, ValueError):  # ValueError: "embedded null character", surrogates
        return None
    if not info._is_text_encoding or info.name in _NOT_CHARSETS:
        return None
    return _SUPERSET.get(info.name, info.name)


def _utf16_without_bom(head: bytes) -> str | None:
    """UTF-16 text without a mark: ASCII-range characters leave a NUL in every other byte."""
    sample = head[:4096]
    if len(sample) < 8:
        return None
    even, odd = sample[0::2].count(0), sample[1::2].count(0)
    half = len(sample) // 2
    if odd > half * 0.4 and even < half * 0.05:
        return "utf-16-le"
    if even > half * 0.4 and odd < half * 0.05:
        return "utf-16-be"
    return None


def _valid_utf8(head: bytes) -> bool:
    try:
        codecs.getincrementaldecoder("utf-8")("strict").decode(head, final=False)
    except UnicodeDecodeError:
        return False
    return True


def sniff_encoding(head: bytes, *, declared: str | None = None, xml: bool = False) -> TextEncoding:
    """The encoding of a text file from its first bytes (:data:`DETECT_BYTES` is plenty).

    ``declared`` is a charset the format states elsewhere; with ``xml`` the prolog's
    ``encoding="…"`` is honoured. Never raises: undecidable bytes are read as UTF-8 (with
    replacement characters, which :class:`TextLines` counts).
    """
    for mark, codec in _BOMS:
        if head.startswith(mark):
            return TextEncoding(codec, len(mark), "byte-order mark")
    wide = _utf16_without_bom(head)
    if wide:
        return TextEncoding(wide, 0, "detected")
    if xml and declared is None:
        match = _XML_ENCODING.search(head[:1024])
        declared = match.group(1).decode("ascii") if match else None
    stated = text_codec(declared) if declared else None
    if stated is not None and not stated.startswith(("utf-16", "utf-32", "utf_16", "utf_32")):
        return TextEncoding(stated, 0, "declared")
    if _valid_utf8(head):
        return TextEncoding("utf-8", 0, "UTF-8")
    from charset_normalizer import from_bytes

    matches = list(from_bytes(head[:DETECT_BYTES]))
    if not matches:
        return TextEncoding("utf-8", 0, "undetected; read as UTF-8")
    best = matches[0]
    # Short Chinese texts decode equally well as GBK, Big5, CP949 or Shift-JIS: a tie goes to
    # GB18030, since most users are in mainland China (a Korean text is no tie: CP949 wins).
    tied = [m for m in matches if m.chaos <= best.chaos + 0.01 and m.coherence >= best.coherence - 0.01]
    if any(text_codec(m.encoding) == "gb18030" for m in tied):
        return TextEncoding("gb18030", 0, "detected")
    detected = text_codec(best.encoding)
    if detected is None:
        return TextEncoding("utf-8", 0, "undetected; read as UTF-8")
    return TextEncoding(detected, 0, "detected")


def decode_head(head: bytes, encoding: TextEncoding) -> str:
    """The first bytes as text (a character cut at the end is dropped), for sniffing."""
    decoder = codecs.getincrementaldecoder(encoding.codec)("replace")
    return decoder.decode(head[encoding.bom :], final=False)


class TextLines:
    """Lines of a byte stream decoded incrementally, each with its ``\\n`` (a final line may lack it).

    Only ``\\n`` ends a line: message text may hold U+2028, form feeds or a lone ``\\r``, which
    :meth:`str.splitlines` would wrongly split on. Bytes that do not decode become U+FFFD and
    are counted in ``replaced``; ``line_number`` is the number of the last line handed out.
    """

    def __init__(self, chunks: Iterable[bytes], encoding: TextEncoding, max_line: int | None = None) -> None:
        self._chunks = iter(chunks)
        self._max_line = max_line or MAX_LINE_CHARS
        self.encoding = encoding
        self._decoder = codecs.getincrementaldecoder(encoding.codec)("replace")
        self.replaced = 0
        self.line_number = 0
        self.bytes_read = 0

    def text_chunks(self) -> Iterator[str]:
        """The decoded text in pieces of any length (for formats that are not line-based)."""
        skip = self.encoding.bom
        for chunk in self._chunks:
            self.bytes_read += len(chunk)
            if skip:
                cut = min(skip, len(chunk))
                chunk, skip = chunk[cut:], skip - cut
            text = self._decoder.decode(chunk)
            self.replaced += text.count("\ufffd")
            yield text
        tail = self._decoder.decode(b"", final=True)
        self.replaced += tail.count("\ufffd")
        yield tail

    def __iter__(self) -> Iterator[str]:
        pending = ""
        for text in self.text_chunks():
            if not text:
                continue
            pending += text
            start = 0
            while True:
                end = pending.find("\n", start)
                if end < 0:
                    break
                self.line_number += 1
                if end - start > self._max_line:
                    raise LineTooLong(self.line_number)
                yield pending[start : end + 1]
                start = end + 1
            pending = pending[start:]
            if len(pending) > self._max_line:
                raise LineTooLong(self.line_number + 1)
        if pending:
            self.line_number += 1
            yield pending

    def warning(self) -> str | None:
        """A line for the import's warnings when bytes had to be replaced."""
        if not self.replaced:
            return None
        return (
            f"{self.replaced} character{'s' if self.replaced != 1 else ''} could not be decoded as "
            f"{self.encoding.codec} and {'were' if self.replaced != 1 else 'was'} replaced by U+FFFD"
        )


def read_chunks(path: object, size: int = 1 << 20) -> Iterator[bytes]:
    """The bytes of a file in chunks (opened read-only, closed when the iterator finishes)."""
    with open(path, "rb") as stream:  # type: ignore[call-overload]
        while True:
            chunk = stream.read(size)
            if not chunk:
                return
            yield chunk
