"""Decode the text of an iOS/macOS ``message.attributedBody`` (an NSArchiver "typedstream")."""

# Why our own decoder: the project's rule is "never hand-write what a well-kept library does", but
# the only Python typedstream library, pytypedstream (PyPI 0.1.0, LGPL-3.0), had one release in
# 2023 and crashes on some objects (FORMATS.md §4.5). We need only the first string of the root
# NSAttributedString, so this walks exactly that much of the stream, structurally (header, class
# chains, shared-string and object reference tables, length encodings), and refuses anything that
# does not fit rather than guessing. It reproduces all 41 crabstep vectors (shared/samples).

from __future__ import annotations

from dataclasses import dataclass, field

#: Tags from Apple's typedstream (crabstep src/deserializer/constants.rs).
_TAG_INT16 = 0x81  # a little-endian int16 follows
_TAG_INT32 = 0x82  # a little-endian int32 follows
_TAG_FLOAT = 0x83
_TAG_NEW = 0x84  # a new object / class / shared string follows
_TAG_NIL = 0x85
_TAG_END = 0x86  # end of an object
_FIRST_REFERENCE = 0x92  # 0x92 + n refers to the n-th entry of a table
_ROOT_CLASSES = frozenset({b"NSAttributedString", b"NSMutableAttributedString"})
_STRING_CLASSES = frozenset({b"NSString", b"NSMutableString"})
_MAX_CLASS_CHAIN = 32

OBJECT_REPLACEMENT = "\ufffc"  # where an attachment sits in the text


class _Malformed(Exception):
    """The blob does not follow the typedstream layout we accept."""


@dataclass(slots=True)
class _Reader:
    data: bytes
    pos: int = 0
    strings: list[bytes] = field(default_factory=list)  # shared strings: type encodings, class names
    objects: list[bytes | None] = field(default_factory=list)  # objects and classes (class name or None)

    def byte(self) -> int:
        if self.pos >= len(self.data):
            raise _Malformed("unexpected end")
        value = self.data[self.pos]
        self.pos += 1
        return value

    def take(self, n: int) -> bytes:
        if n < 0 or self.pos + n > len(self.data):
            raise _Malformed("length overruns the blob")
        chunk = self.data[self.pos : self.pos + n]
        self.pos += n
        return chunk

    def integer(self) -> int:
        # 1 byte (signed), or 81 + int16 LE, or 82 + int32 LE (FORMATS.md §4.5).
        head = self.byte()
        if head == _TAG_INT16:
            return int.from_bytes(self.take(2), "little", signed=True)
        if head == _TAG_INT32:
            return int.from_bytes(self.take(4), "little", signed=True)
        if _TAG_FLOAT <= head < _FIRST_REFERENCE:
            raise _Malformed(f"tag {head:#x} where an integer was expected")
        return head - 0x100 if head >= 0x80 else head

    def reference(self, head: int, table_size: int) -> int:
        if head == _TAG_INT16 or head == _TAG_INT32:  # large reference numbers
            self.pos -= 1
            index = self.integer() - (_FIRST_REFERENCE - 0x100)
        elif head >= _FIRST_REFERENCE:
            index = head - _FIRST_REFERENCE
        else:
            raise _Malformed(f"tag {head:#x} is not a reference")
        if not 0 <= index < table_size:
            raise _Malformed("reference out of range")
        return index

    def shared_string(self) -> bytes | None:
        # 84 <len> <bytes> = a new shared string; 92+n = the n-th one seen; 85 = nil.
        head = self.byte()
        if head == _TAG_NIL:
            return None
        if head == _TAG_NEW:
            value = self.take(self.integer())
            self.strings.append(value)
            return value
        return self.strings[self.reference(head, len(self.strings))]

    def class_chain(self) -> list[bytes]:
        # 84 84 <len> "NSMutableString" <version> 84 84 08 "NSString" <version> 95
        # = new class, its name as a new shared string, its version, then its superclass the same
        # way, ending in 85 (nil) or a reference to a class already seen.
        chain: list[bytes] = []
        while len(chain) < _MAX_CLASS_CHAIN:
            head = self.byte()
            if head == _TAG_NIL:
                return chain
            if head != _TAG_NEW:
                known = self.objects[self.reference(head, len(self.objects))]
                if known is None:
                    raise _Malformed("class reference points at an object")
                return chain + [known]
            name = self.shared_string()
            if name is None:
                raise _Malformed("class without a name")
            self.objects.append(name)
            self.integer()  # class version
            chain.append(name)
        raise _Malformed("class chain too long")

    def object_start(self) -> list[bytes]:
        """Read ``84 <class chain>`` of a new object; returns the class names, most derived first."""
        if self.byte() != _TAG_NEW:
            raise _Malformed("expected a new object")
        self.objects.append(None)  # objects are numbered before their class (seen in real blobs)
        return self.class_chain()


def decode_attributed_body(blob: bytes | None) -> str | None:
    """The text of an archived NS(Mutable)AttributedString, exactly as stored (U+FFFC included).

    Returns None when ``blob`` is empty, not a little-endian typedstream, not an attributed
    string (e.g. an NSMutableArray), or damaged (a length that overruns the data). Never raises.
    """
    if not blob:
        return None
    try:
        return _decode(_Reader(bytes(blob)))
    except (_Malformed, IndexError):
        return None


def _decode(reader: _Reader) -> str:
    # 04 0b "streamtyped" 81 e8 03: version 4, signature, system version 1000.
    if reader.byte() != 4 or reader.take(reader.integer()) != b"streamtyped":
        raise _Malformed("not a little-endian typedstream")
    reader.integer()
    # 84 01 40: the root value's type encoding "@" (an object).
    if reader.shared_string() != b"@":
        raise _Malformed("root is not an object")
    root_chain = reader.object_start()
    if not root_chain or root_chain[0] not in _ROOT_CLASSES:
        raise _Malformed("root is not an attributed string")
    # 92: the first member's type encoding, again "@": the NSString holding the text.
    if reader.shared_string() != b"@":
        raise _Malformed("attributed string does not start with an object")
    string_chain = reader.object_start()
    if not string_chain or string_chain[0] not in _STRING_CLASSES:
        raise _Malformed("first member is not a string")
    # 84 01 2b: type "+" (raw bytes), then the UTF-8 byte count and the bytes, then 86 (end).
    if reader.shared_string() != b"+":
        raise _Malformed("string without a '+' payload")
    text = reader.take(reader.integer())
    if reader.byte() != _TAG_END:
        raise _Malformed("string object not closed")
    return text.decode("utf-8", "replace")


def strip_placeholders(text: str) -> str:
    """Remove U+FFFC attachment placeholders; the attachments are reported separately."""
    return text.replace(OBJECT_REPLACEMENT, "")


# --- encoding (fixtures and sample data) -----------------------------------------------------


def _encode_int(n: int) -> bytes:
    """typedstream integer: 1 byte below 0x80, else 0x81 + int16 LE or 0x82 + int32 LE."""
    if 0 <= n < 0x80:
        return bytes([n])
    if -0x8000 <= n < 0x8000:
        return b"\x81" + n.to_bytes(2, "little", signed=True)
    return b"\x82" + n.to_bytes(4, "little", signed=True)


def encode_attributed_body(text: str, *, mutable: bool = True) -> bytes:
    """Archive ``text`` the way iOS 16 stores ``message.attributedBody`` (FORMATS.md §4.5 layout).

    The inverse of :func:`decode_attributed_body`: builds realistic test databases and the iPhone
    sample (``sample_data/make_iphone_sample.py``), so both match what the decoder reads.
    """

    def cls(name: bytes, version: int) -> bytes:
        return b"\x84\x84" + _encode_int(len(name)) + name + _encode_int(version)

    head = b"\x04\x0bstreamtyped\x81\xe8\x03" + b"\x84\x01@" + b"\x84"
    if mutable:  # objects: 0 root, 1 NSMutableAttributedString, 2 NSAttributedString, 3 NSObject
        head += cls(b"NSMutableAttributedString", 0) + cls(b"NSAttributedString", 0)
        nsobject_ref = 0x92 + 3
    else:  # objects: 0 root, 1 NSAttributedString, 2 NSObject
        head += cls(b"NSAttributedString", 0)
        nsobject_ref = 0x92 + 2
    head += cls(b"NSObject", 0) + b"\x85"
    data = text.encode("utf-8")
    string = b"\x92\x84" + (
        cls(b"NSMutableString", 1) + cls(b"NSString", 1) if mutable else cls(b"NSString", 1)
    )
    string += bytes([nsobject_ref]) + b"\x84\x01+" + _encode_int(len(data)) + data + b"\x86"
    utf16_len = len(text.encode("utf-16-le")) // 2
    # One attribute run over the whole text ("iI" = location, length) with an empty dictionary.
    runs = b"\x84\x02iI\x01" + _encode_int(utf16_len) + b"\x92\x84" + cls(b"NSDictionary", 0)
    runs += bytes([nsobject_ref]) + b"\x84\x01i\x00\x86\x86"
    return head + string + runs
