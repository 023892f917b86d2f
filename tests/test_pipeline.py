"""The library API: the README's snippet runs, and read → classify → audit equals the CLI's report."""

from __future__ import annotations

import contextlib
import io
import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

import sms_audit
from sms_audit.cli import app
from sms_audit.pipeline import REGION_SAMPLE, read_archives
from sms_audit.schema import FINDING_COLUMNS, LEDGER_COLUMNS, MESSAGE_COLUMNS
from tests.conftest import REPO, SAMPLE_DATA
from tests.fixtures_sbr import document, sms

SAMPLE = SAMPLE_DATA / "android-sms-backup.xml"


def _readme_snippet() -> str:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text.split("## Use from Python", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert match, "the README's 'Use from Python' section has a python block"
    return match.group(1)


def test_readme_use_from_python_snippet_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    out = io.StringIO()
    namespace: dict[str, object] = {}
    with contextlib.redirect_stdout(out):
        exec(compile(_readme_snippet(), "README.md", "exec"), namespace)  # noqa: S102 - our own README
    printed = out.getvalue()
    assert printed.startswith("CN (inferred from the numbers in its first 189 messages) [('sbr_xml', 189)]\n")
    violations = namespace["violations"]
    assert list(violations["address"]) == [  # type: ignore[index]
        "10690123456701",
        "10690123456701",
        "10690123456702",
        "106575550001",
        "10690123456702",
    ]
    assert "优选商城      TD      False        violated" in printed


def test_library_findings_equal_the_cli_json() -> None:
    result = CliRunner().invoke(app, ["report", str(SAMPLE), "--format", "json"])
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    report = sms_audit.audit(sms_audit.classify(sms_audit.read_archives([SAMPLE])))
    findings = report.findings_frame()
    assert list(findings.columns) == list(FINDING_COLUMNS)
    assert list(findings["finding_id"]) == [f["finding_id"] for f in doc["findings"]]
    assert list(findings["kind"]) == [f["kind"] for f in doc["findings"]]
    assert [t.isoformat(timespec="milliseconds").replace("+00:00", "Z") for t in findings["timestamp"]] == [
        f["timestamp"] for f in doc["findings"]
    ]
    ledger = report.ledger_frame()
    assert list(ledger.columns) == list(LEDGER_COLUMNS)
    assert list(ledger["status"]) == [e["status"] for e in doc["ledger"]]
    assert list(report.traps_frame()["finding_id"]) == [t["finding_id"] for t in doc["traps"]]
    assert [s["subject"] for s in doc["summary"]] == list(report.summary_frame()["subject"])


def test_read_archives_one_bad_archive_never_costs_the_others(tmp_path: Path) -> None:
    bad = tmp_path / "bad.xml"
    bad.write_text("<smses><sms address=", encoding="utf-8")
    junk = tmp_path / "notes.txt"
    junk.write_text("hello", encoding="utf-8")
    seen: list[str] = []
    messages = read_archives([bad, SAMPLE, junk], on_archive=lambda r: seen.append(r.path.name))
    assert seen == ["bad.xml", "android-sms-backup.xml", "notes.txt"]
    assert len(messages) == 189
    by_name = {a.path.name: a for a in messages.archives}
    assert (by_name["bad.xml"].status, by_name["android-sms-backup.xml"].status) == ("failed", "ok")
    assert (
        by_name["notes.txt"].error is not None
        and by_name["notes.txt"].error.message == "not a supported archive"
    )
    assert list(messages.frame.columns) == list(MESSAGE_COLUMNS)


def test_region_is_inferred_in_the_same_pass_that_reads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each archive is parsed once: the region comes from the buffered first records."""
    from sms_audit.importers import android_xml

    calls: list[Path] = []
    real = android_xml.read_records

    def counting(path: Path, *args: object, **kwargs: object) -> object:
        calls.append(path)
        return real(path, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(android_xml, "read_records", counting)
    # more than the sample size: the first records decide, the rest follow in the same pass
    n = REGION_SAMPLE + 10
    rows = [sms("+8613900001111", 1700000000000 + i * 1000, f"m{i}") for i in range(n)]
    rows.append(sms("13900002222", 1700000000000 + n * 1000, "national"))
    path = tmp_path / "big.xml"
    path.write_text(document(*rows), encoding="utf-8")
    messages = read_archives([path])
    assert calls == [path]
    assert messages.region.code == "CN" and messages.region.source.startswith("inferred from the numbers")
    assert len(messages) == n + 1
    assert messages.frame["address"].iloc[-1] == "+8613900002222"  # national number read in CN


def test_region_falls_back_to_an_earlier_archive(tmp_path: Path) -> None:
    first = tmp_path / "a.xml"
    first.write_text(document(sms("+8613900001111", 1700000000000, "hi")), encoding="utf-8")
    second = tmp_path / "b.xml"
    second.write_text(document(sms("13900002222", 1700000001000, "national only")), encoding="utf-8")
    messages = read_archives([first, second])
    (a, b) = messages.archives
    assert a.region.code == b.region.code == "CN"
    assert b.region.source == "inferred from an earlier archive of this run"
    assert messages.frame["address"].tolist() == ["+8613900001111", "+8613900002222"]


def test_classify_checks_its_input_frame() -> None:
    from sms_audit.pipeline import Messages

    messages = read_archives([SAMPLE])
    broken = Messages(messages.frame.drop(columns="direction"), messages.archives, messages.region)
    with pytest.raises(sms_audit.SchemaError, match="classify: the frame has no column 'direction'"):
        sms_audit.classify(broken)


def test_classify_stays_the_function_after_the_classifier_package_is_imported() -> None:
    import sms_audit.classifier.engine

    messages = read_archives([SAMPLE])
    assert callable(sms_audit.classify)
    assert sms_audit.classify(sms_audit.classify(messages)).classified


def test_store_report_counts_the_whole_archive_like_the_in_memory_one(tmp_path: Path) -> None:
    """The store's report reads only what concerns unsubscribes, yet states the same totals, the
    same findings and the same month-by-label overview as the analysis of every message."""
    from sms_audit.report.timelines import monthly_labels

    full = sms_audit.audit(sms_audit.classify(sms_audit.read_archives([SAMPLE])))
    with sms_audit.open_store(tmp_path / "s.sqlite", create=True) as store:
        sms_audit.import_archives(store, [SAMPLE])
        messages = sms_audit.load_for_report(store)
        assert len(messages.frame) < 187  # not the whole archive
        stored = sms_audit.audit(messages)
    assert (stored.messages_checked, stored.first_message, stored.last_message) == (
        full.messages_checked,
        full.first_message,
        full.last_message,
    )
    assert [f.finding_id for f in stored.findings] == [f.finding_id for f in full.findings]
    assert stored.ledger == full.ledger and stored.summary == full.summary
    assert monthly_labels(stored).equals(monthly_labels(full))


def test_prefetch_closed_early_ends_the_reader_in_its_own_thread() -> None:
    """Ctrl-C or an error in the consumer: closing the prefetch ends the reader, and the reader's
    finally blocks (a SQLite connection, a temporary copy, a parser child) run in the reader's thread."""
    import threading

    from sms_audit.pipeline import _prefetch

    ran_in: list[str] = []

    def reader():  # type: ignore[no-untyped-def]
        try:
            yield from range(1_000_000)
        finally:
            ran_in.append(threading.current_thread().name)

    batches = _prefetch(reader())
    assert next(batches) == 0
    batches.close()
    assert ran_in == ["sms-audit-reader"]
