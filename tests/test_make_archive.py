"""bench/make_archive.py: deterministic records, and an SB&R file the importer reads back."""

from __future__ import annotations

import io
import sys
from pathlib import Path

from sms_audit.importers import ReadOptions, ReadStats, android_xml

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

import make_archive


def test_generate_is_deterministic_and_varied() -> None:
    first = list(make_archive.generate(3000, seed=11))
    assert first == list(make_archive.generate(3000, seed=11))
    assert first != list(make_archive.generate(3000, seed=12))
    assert len({r.address for r in first}) > 500
    assert len({r.body for r in first}) > 1500
    assert {r.direction for r in first} == {"in", "out"}
    assert [r.date_ms for r in first] == sorted(r.date_ms for r in first)


def test_write_sbr_xml_reads_back_with_the_importer(tmp_path: Path) -> None:
    records = list(make_archive.generate(400, seed=3))
    buffer = io.StringIO()
    assert make_archive.write_sbr_xml(records, buffer, count=len(records)) == 400
    path = tmp_path / "sms.xml"
    path.write_text(buffer.getvalue(), encoding="utf-8")
    stats = ReadStats()
    messages = list(android_xml.read(path, ReadOptions(region="CN"), stats))
    assert (stats.read, stats.skipped) == (400, 0)
    assert [m.body for m in messages] == [r.body for r in records]
    assert [m.direction for m in messages] == [r.direction for r in records]
