"""A small protobuf wire-format reader: streamed top-level walking, in-memory field decoding.

Written for MIUI backups (FORMATS-CN §1.4), whose field numbers are known from the decompiled
writer, so nothing has to be guessed: the caller names the fields it wants and every other field is
skipped by its wire type (protobuf's own rule for unknown fields). A schema-less decoder such as
bbpb would have to guess whether a length-delimited field is a string or a nested message, needs
the whole buffer in memory, and raises its own exception types; this reader streams the outer
message (a backup can be large), holds one record at a time, and raises only :class:`WireError`.
Wire format: https://protobuf.dev/programming-guides/encoding/ .
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

VARINT, I64, LEN, SGROUP, EGROUP, I32 = 0, 1, 2, 3, 4, 5
_MAX_VARINT_BYTES = 10
_CHUNK = 1 << 16

#: A decoded field value: an int for VARINT/I64/I32 (unsigned as on the wire), bytes for LEN.
Value = int | bytes


class Readable(Protocol):
    """A binary stream (a file, a tar member view): ``read`` returns b"" or None at its end."""

    def read(self, size: int = -1, /) -> bytes | None: ...


class WireError(Exception):
    """The bytes are not valid protobuf wire format (or break a length limit)."""


class WireTruncated(WireError):
    """The stream ended inside a field: everything before it was complete."""


def parse_message(data: bytes) -> dict[int, list[Value]]:
    """Every field of one complete message: field number → values in wire order.

    Raises WireError for bytes that are not a well-formed message (a field running past the end
    counts: the enclosing length said where the message ends).
    """
    fields: dict[int, list[Value]] = {}
    pos, end = 0, len(data)
    while pos < end:
        key = data[pos]  # one-byte keys (fields 1-15) and lengths (< 128) are the common case
        pos += 1
        if key & 0x80:
            key, pos = _varint(data, pos - 1)
        number, wire = key >> 3, key & 7
        if number == 0:
            raise WireError("field number 0")
        value: Value
        if wire == VARINT:
            if pos < end and data[pos] < 0x80:
                value, pos = data[pos], pos + 1
            else:
                value, pos = _varint(data, pos)
        elif wire == LEN:
            if pos < end and data[pos] < 0x80:
                size, pos = data[pos], pos + 1
            else:
                size, pos = _varint(data, pos)
            if pos + size > end:
                raise WireError("length-delimited field runs past the end of its message")
            value, pos = data[pos : pos + size], pos + size
        elif wire in (I64, I32):
            size = 8 if wire == I64 else 4
            if pos + size > end:
                raise WireError("fixed-width field runs past the end of its message")
            value, pos = int.from_bytes(data[pos : pos + size], "little"), pos + size
        else:
            raise WireError(f"unsupported wire type {wire}")
        if number in fields:
            fields[number].append(value)
        else:
            fields[number] = [value]
    return fields


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    end = len(data)
    if pos >= end:
        raise WireError("varint runs past the end of its message")
    byte = data[pos]
    if byte < 0x80:
        return byte, pos + 1
    result = byte & 0x7F
    for shift in range(7, 7 * _MAX_VARINT_BYTES, 7):
        pos += 1
        if pos >= end:
            raise WireError("varint runs past the end of its message")
        byte = data[pos]
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result, pos + 1
    raise WireError("varint longer than 10 bytes")


def as_int(value: Value | None, bits: int = 64) -> int | None:
    """A VARINT as the signed int32/int64 protobuf-java wrote (negative numbers use 10 bytes)."""
    if not isinstance(value, int):
        return None
    value &= (1 << 64) - 1
    if value >= 1 << 63:
        value -= 1 << 64
    if bits == 32:
        value = (value + (1 << 31)) % (1 << 32) - (1 << 31)
    return value


def as_text(value: Value | None) -> str | None:
    """A string field (UTF-8; invalid bytes become U+FFFD, as protobuf-java's toStringUtf8 does)."""
    if not isinstance(value, bytes):
        return None
    return value.decode("utf-8", "replace")


def first(fields: dict[int, list[Value]], number: int) -> Value | None:
    """The last value of a singular field (protobuf: the last one wins), or None when absent."""
    values = fields.get(number)
    return values[-1] if values else None


class WireStream:
    """Reads fields from a binary stream without holding more than one record in memory.

    ``offset`` counts the bytes consumed. Reads raise WireTruncated when the stream ends inside a
    field; errors of the underlying stream propagate unchanged.
    """

    def __init__(self, raw: Readable) -> None:
        self._raw = raw
        self.offset = 0

    def read_exact(self, size: int) -> bytes:
        parts: list[bytes] = []
        remaining = size
        while remaining:
            chunk = self._raw.read(min(remaining, _CHUNK)) or b""
            if not chunk:
                raise WireTruncated(f"data ends {remaining} bytes before the end of a field")
            parts.append(chunk)
            remaining -= len(chunk)
        self.offset += size
        return b"".join(parts)

    def skip(self, size: int) -> None:
        remaining = size
        while remaining:
            chunk = self._raw.read(min(remaining, _CHUNK)) or b""
            if not chunk:
                raise WireTruncated(f"data ends {remaining} bytes before the end of a field")
            remaining -= len(chunk)
        self.offset += size

    def varint(self, *, eof_ok: bool = False) -> int | None:
        """The next varint; None only when ``eof_ok`` and the stream ends before its first byte."""
        result = 0
        for index in range(_MAX_VARINT_BYTES):
            byte = self._raw.read(1) or b""
            if not byte:
                if index == 0 and eof_ok:
                    return None
                raise WireTruncated("data ends inside a varint")
            self.offset += 1
            result |= (byte[0] & 0x7F) << (7 * index)
            if not byte[0] & 0x80:
                return result
        raise WireError("varint longer than 10 bytes")

    def length(self, *, limit: int | None = None) -> int:
        """The length prefix of a LEN field (at most ``limit`` bytes)."""
        size = self.varint()
        assert size is not None
        if limit is not None and size > limit:
            raise WireError(f"a field of {size} bytes is larger than the {limit} allowed")
        return size

    def fields(self, end: int | None = None) -> Iterator[tuple[int, int]]:
        """(field number, wire type) of each field up to offset ``end`` (None: the end of the
        stream). The caller consumes each field's value (``length``/``read_exact``/``skip_value``)
        before asking for the next one."""
        while end is None or self.offset < end:
            key = self.varint(eof_ok=end is None)
            if key is None:
                return
            number, wire = key >> 3, key & 7
            if number == 0:
                raise WireError("field number 0")
            yield number, wire
            if end is not None and self.offset > end:
                raise WireError("a field runs past the end of its message")

    def skip_value(self, wire: int) -> None:
        """Skip the value of a field of wire type ``wire``."""
        if wire == VARINT:
            self.varint()
        elif wire == I64:
            self.skip(8)
        elif wire == I32:
            self.skip(4)
        elif wire == LEN:
            self.skip(self.length())
        else:
            raise WireError(f"unsupported wire type {wire}")
