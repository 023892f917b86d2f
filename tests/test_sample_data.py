"""sample_data/ is what its generator writes, and it holds the planted stories the README promises."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from sms_audit.importers import ReadOptions, ReadStats, android_xml
from tests.conftest import SAMPLE_DATA


def test_android_sample_is_reproducible(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spec = importlib.util.spec_from_file_location(
        "make_android_sample", SAMPLE_DATA / "make_android_sample.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, module)  # dataclasses look their module up there
    spec.loader.exec_module(module)
    monkeypatch.setattr(module, "OUT", tmp_path / "android-sms-backup.xml")
    module.main()
    assert (tmp_path / "android-sms-backup.xml").read_bytes() == (
        SAMPLE_DATA / "android-sms-backup.xml"
    ).read_bytes()


def test_android_sample_content() -> None:
    stats = ReadStats()
    messages = list(android_xml.read(SAMPLE_DATA / "android-sms-backup.xml", ReadOptions(region="CN"), stats))
    assert (stats.read, stats.skipped) == (189, 0)
    assert sum(m.is_group for m in messages) == 2
    assert any("😀" in m.body for m in messages)  # written as &#55357;&#56832; in the file
    assert "&#55357;&#56832;" in (SAMPLE_DATA / "android-sms-backup.xml").read_text(encoding="utf-8")
