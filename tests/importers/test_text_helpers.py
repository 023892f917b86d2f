"""The helpers the text formats share: encoding detection, line splitting, wall-clock times."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sms_audit.importers._textfile import TextEncoding, TextLines, sniff_encoding
from sms_audit.importers._walltime import WallTime, parse_walltime


@pytest.mark.parametrize(
    ("text", "encoding", "codec", "how"),
    [
        ("时间,号码,内容\n2025-01-01 10:00,95588,您好\n", "utf-8", "utf-8", "UTF-8"),
        ("TD,,10690123456701,2025/09/10 20:15:00,发件箱\r\n", "gbk", "gb18030", "detected"),
        ("内容,姓名,号码\r\n您尾号1234的卡消费100元,,95588\r\n", "gbk", "gb18030", "detected"),
        ("안녕하세요, 반갑습니다. 오늘 날씨가 좋네요\n", "cp949", "cp949", "detected"),
        ("繁體中文測試，這是一個簡訊\n", "big5", "big5", "detected"),
    ],
)
def test_sniff_encoding_prefers_gb18030_on_ties(text: str, encoding: str, codec: str, how: str) -> None:
    found = sniff_encoding(text.encode(encoding))
    assert (found.codec, found.how) == (codec, how)
    assert text.encode(encoding).decode(found.codec) == text


def test_sniff_encoding_marks_and_declarations() -> None:
    assert sniff_encoding(b"\xef\xbb\xbfa,b") == TextEncoding("utf-8", 3, "byte-order mark")
    assert sniff_encoding(b"\xff\xfe\x00\x00a\x00\x00\x00") == TextEncoding("utf-32-le", 4, "byte-order mark")
    assert sniff_encoding(b"\xff\xfea\x00,\x00") == TextEncoding("utf-16-le", 2, "byte-order mark")
    assert sniff_encoding("BEGIN:VMSG\nX".encode("utf-16-le")) == TextEncoding("utf-16-le", 0, "detected")
    xml = b'<?xml version="1.0" encoding="GBK"?><allsms>'
    assert sniff_encoding(xml, xml=True) == TextEncoding("gb18030", 0, "declared")
    assert sniff_encoding(b'<?xml version="1.0" encoding="bogus"?>', xml=True).codec == "utf-8"


def test_text_lines_split_only_on_newline_and_count_replacements() -> None:
    data = "a\u2028b\x0cc\rd\ne😀\nlast".encode()
    chunks = [data[i : i + 3] for i in range(0, len(data), 3)]  # characters cut between chunks
    lines = TextLines(chunks, TextEncoding("utf-8"))
    assert list(lines) == ["a\u2028b\x0cc\rd\n", "e😀\n", "last"]
    assert (lines.line_number, lines.replaced, lines.warning()) == (3, 0, None)
    bad = TextLines([b"ok\n\xff\xfe\n"], TextEncoding("utf-8"))
    assert list(bad) == ["ok\n", "\ufffd\ufffd\n"]
    assert bad.warning() == "2 characters could not be decoded as utf-8 and were replaced by U+FFFD"


def _wall(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp() * 1_000_000)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2018/08/04 14:08:59", WallTime(_wall("2018-08-04 14:08:59"), True)),
        ("2018-08-04T14:08:59.250", WallTime(_wall("2018-08-04 14:08:59.250"), True)),
        ("2018.8.4 14:08", WallTime(_wall("2018-08-04 14:08:00"), True)),
        ("04.08.2018 14:08:59", WallTime(_wall("2018-08-04 14:08:59"), True)),
        ("2013年12月26日 下午8:56:00", WallTime(_wall("2013-12-26 20:56:00"), True)),
        ("2013年12月26日 上午12:05:00", WallTime(_wall("2013-12-26 00:05:00"), True)),
        ("2013年12月26日 中午12:30", WallTime(_wall("2013-12-26 12:30:00"), True)),
        ("2013-12-26 8:56:00 PM", WallTime(_wall("2013-12-26 20:56:00"), True)),
        ("2013-12-26", WallTime(_wall("2013-12-26 00:00:00"), True)),
        ("2018-08-04T14:08:59+08:00", WallTime(_wall("2018-08-04 06:08:59"), False)),
        ("2018-08-04 14:08:59 GMT+8", WallTime(_wall("2018-08-04 06:08:59"), False)),
        ("2018-08-04T14:08:59Z", WallTime(_wall("2018-08-04 14:08:59"), False)),
        ("1533391739000", WallTime(1533391739000 * 1000, False)),
        ("1533391739", WallTime(1533391739 * 1_000_000, False)),
        ("2025/02/30 10:00:00", None),
        ("1889/01/01 10:00:00", None),
        ("2018-08-04 25:00:00", None),
        ("2018-08-04T14:08:59+25:00", None),
        ("99999999999999999", None),
        ("yesterday", None),
        ("", None),
    ],
)
def test_parse_walltime(text: str, expected: WallTime | None) -> None:
    assert parse_walltime(text) == expected


def test_parse_walltime_with_a_format() -> None:
    assert parse_walltime("13/09/2025 11:00", "%d/%m/%Y %H:%M") == WallTime(
        _wall("2025-09-13 11:00:00"), True
    )
    assert parse_walltime("13/09/2025 11:00 +0800", "%d/%m/%Y %H:%M %z") == WallTime(
        _wall("2025-09-13 03:00:00"), False
    )
    assert parse_walltime("09/13/2025", "%d/%m/%Y") is None


@given(st.text(max_size=60))
def test_property_parse_walltime_never_raises(text: str) -> None:
    found = parse_walltime(text)
    assert found is None or isinstance(found.us, int)
