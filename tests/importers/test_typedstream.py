"""attributedBody decoding: the 41 real crabstep blobs, our own encoder, and hostile input."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sms_audit.importers.typedstream import decode_attributed_body, encode_attributed_body, strip_placeholders
from tests.conftest import SHARED_SAMPLES

CRABSTEP = SHARED_SAMPLES / "attributedbody-blobs-crabstep"


def _vectors() -> list[dict[str, object]]:
    if not (CRABSTEP / "EXPECTED.json").is_file():
        return []
    return json.loads((CRABSTEP / "EXPECTED.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("vector", _vectors(), ids=lambda v: str(v["file"]))
def test_decode_crabstep_blob_matches_expected(vector: dict[str, object]) -> None:
    blob = (CRABSTEP / "blobs" / str(vector["file"])).read_bytes()
    assert decode_attributed_body(blob) == vector["expected_text"]


def test_decode_crabstep_all_41_present() -> None:
    vectors = _vectors()
    if not vectors:
        pytest.skip("shared/samples/attributedbody-blobs-crabstep is absent")
    assert len(vectors) == 41
    nothing = sorted(str(v["file"]) for v in vectors if v["expected_text"] is None)
    assert nothing == ["ExtraData", "HugeWithRefs"]


def test_decode_text_only_layout_byte_by_byte() -> None:
    # FORMATS.md §4.5, the layout of the real blob AttributedBodyTextOnly ("Noter test").
    blob = bytes.fromhex(
        "040b73747265616d747970656481e803"
        "840140"
        "848484194e534d757461626c6541747472696275746564537472696e6700"
        "8484124e5341747472696275746564537472696e6700"
        "8484084e534f626a65637400"
        "85"
        "928484840f4e534d757461626c65537472696e6701"
        "8484084e53537472696e670195"
        "84012b"
        "0a4e6f7465722074657374"
        "86"
    )
    assert decode_attributed_body(blob) == "Noter test"


def test_decode_length_encodings_int16_and_int32() -> None:
    short, medium, long = "a" * 127, "b" * 128, "ü" * 20_000  # 1 byte, 0x81 int16, 0x82 int32
    assert decode_attributed_body(encode_attributed_body(short)) == short
    assert b"\x81\x80\x00b" in encode_attributed_body(medium)
    assert decode_attributed_body(encode_attributed_body(medium)) == medium
    assert b"\x82\x40\x9c\x00\x00" in encode_attributed_body(long)
    assert decode_attributed_body(encode_attributed_body(long)) == long


def test_decode_plain_attributed_string_root() -> None:
    assert decode_attributed_body(encode_attributed_body("Test 3", mutable=False)) == "Test 3"


@pytest.mark.parametrize(
    "blob", [None, b"", b"\x04\x0bstreamtyped", b"bplist00\xd4\x01", b"\x04\x0btypedstream\x81\xe8\x03"]
)
def test_decode_rejects_non_typedstream(blob: bytes | None) -> None:
    assert decode_attributed_body(blob) is None


def test_decode_rejects_overrunning_length() -> None:
    blob = encode_attributed_body("This is parsing")
    cut = blob.index(b"This is parsing")
    assert decode_attributed_body(blob[: cut - 1] + b"\x81\x9d\x00" + blob[cut:]) is None


def test_decode_every_truncation_is_none_or_exact() -> None:
    blob = encode_attributed_body("000123 is your security code.")
    for end in range(len(blob)):
        assert decode_attributed_body(blob[:end]) in (None, "000123 is your security code.")


@given(st.binary(max_size=300))
def test_decode_never_raises_on_garbage(blob: bytes) -> None:
    result = decode_attributed_body(b"\x04\x0bstreamtyped\x81\xe8\x03" + blob)
    assert result is None or isinstance(result, str)


@given(st.text(max_size=400))
def test_decode_round_trips_any_text(text: str) -> None:
    encodable = text.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
    assert decode_attributed_body(encode_attributed_body(encodable)) == encodable


def test_strip_placeholders_removes_object_replacement_only() -> None:
    assert strip_placeholders("\ufffctest 1\ufffctest 2 \ufffctest 3") == "test 1test 2 test 3"
    assert strip_placeholders("\ufffc") == ""
