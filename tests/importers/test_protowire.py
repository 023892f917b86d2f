"""The protobuf wire reader against the official runtime, and on arbitrary bytes."""

from __future__ import annotations

import io

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sms_audit.importers._protowire import (
    LEN,
    VARINT,
    WireError,
    WireStream,
    WireTruncated,
    as_int,
    as_text,
    first,
    parse_message,
)
from tests.fixtures_miui import _classes

INT32 = st.integers(min_value=-(2**31), max_value=2**31 - 1)
INT64 = st.integers(min_value=-(2**63), max_value=2**63 - 1)
TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=100)


@given(kind=INT32, date=INT64, address=TEXT, body=TEXT, read=st.booleans())
def test_fields_match_the_official_encoder(kind: int, date: int, address: str, body: str, read: bool) -> None:
    sms = _classes()["Sms"](type=kind, date=date, address=address, body=body, read=read, mxStatus=-1)
    fields = parse_message(sms.SerializeToString())
    assert as_int(first(fields, 3), 32) == kind
    assert as_int(first(fields, 7)) == date
    assert as_text(first(fields, 4)) == address
    assert as_text(first(fields, 6)) == body
    assert as_int(first(fields, 8)) == int(read)
    assert as_int(first(fields, 17), 32) == -1


@given(data=st.binary(max_size=200))
def test_parse_message_raises_only_wire_errors(data: bytes) -> None:
    try:
        fields = parse_message(data)
    except WireError:
        return
    assert all(isinstance(n, int) and n > 0 for n in fields)


@given(data=st.binary(max_size=200))
def test_stream_raises_only_wire_errors(data: bytes) -> None:
    stream = WireStream(io.BytesIO(data))
    try:
        for _number, wire in stream.fields():
            stream.skip_value(wire)
    except WireError:
        pass
    assert stream.offset <= len(data)


def test_stream_walks_nested_lengths_and_reports_truncation() -> None:
    # field 4 (LEN 5) holding field 1 (LEN 3, "abc"); then field 2 varint 150
    data = b"\x22\x05\x0a\x03abc\x10\x96\x01"
    stream = WireStream(io.BytesIO(data))
    seen = []
    for number, wire in stream.fields():
        if number == 4 and wire == LEN:
            size = stream.length()
            end = stream.offset + size
            for inner, inner_wire in stream.fields(end):
                seen.append((inner, stream.read_exact(stream.length())))
                assert inner_wire == LEN
        else:
            assert wire == VARINT
            seen.append((number, stream.varint()))
    assert seen == [(1, b"abc"), (2, 150)]
    with pytest.raises(WireTruncated):
        cut = WireStream(io.BytesIO(data[:5]))
        for _number, wire in cut.fields():
            cut.skip_value(wire)
    with pytest.raises(WireError, match="larger than"):
        WireStream(io.BytesIO(b"\xff\xff\xff\x7f")).length(limit=1000)
