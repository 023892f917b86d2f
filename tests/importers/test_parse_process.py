"""Parsing in a child process gives what parsing in process gives: records, stats, errors, progress."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from sms_audit.errors import CorruptArchive, TruncatedArchive
from sms_audit.importers import android_mmssms, android_xml, ios_sms_db
from sms_audit.importers._parse_process import read_batches_in_process
from sms_audit.importers.base import ReadOptions, ReadStats
from sms_audit.pipeline import import_archives
from sms_audit.store import Store
from tests.fixtures_ios import make_ios16_db
from tests.fixtures_sbr import document, mms, sms
from tests.importers import _dying_importer
from tests.importers.test_android_mmssms import _story


def read_in_process(
    importer, path: Path, options: ReadOptions, stats: ReadStats, *, batch: int | None = None
):  # type: ignore[no-untyped-def]
    """The child's records one by one, as the importer yields them in process."""
    for records in read_batches_in_process(importer, path, options, stats, batch=batch):
        yield from records


def _sbr(path: Path, n: int = 7) -> Path:
    records = [sms("1069000" + str(i % 3), 1700000000000 + i * 60_000, f"第{i}条 回T退订") for i in range(n)]
    records.append(sms("", 1700000999000, "no address: skipped"))
    records.append(
        mms(
            "+15550100001",
            1700001000000,
            1,
            [("text/plain", "a picture"), ("image/png", "iVBORw0KGgo=")],
            [("+15550100001", 137), ("insert-address-token", 151)],
        )
    )
    path.write_text(document(*records, count=len(records) + 2), encoding="utf-8")
    return path


def _both(importer, path: Path, batch: int = 2):  # type: ignore[no-untyped-def]
    """(records, stats, error, progress) read in process and in a child."""
    out = []
    for child in (False, True):
        stats, progress = ReadStats(), []
        options = ReadOptions(on_progress=lambda done, total, seen=progress: seen.append((done, total)))
        records, error = [], None
        source = (
            read_in_process(importer, path, options, stats, batch=batch)
            if child
            else importer.read_records(path, options, stats)
        )
        try:
            records.extend(source)
        except Exception as exc:  # noqa: BLE001 - compared below
            error = exc
        out.append((records, stats, error, progress))
    return out


def _same_stats(a: ReadStats, b: ReadStats) -> None:
    assert (a.read, a.skipped, a.excluded) == (b.read, b.skipped, b.excluded)
    assert (a.warnings, a.details, a.skip_reasons) == (b.warnings, b.details, b.skip_reasons)


def test_child_yields_the_same_records_stats_and_progress(tmp_path: Path) -> None:
    path = _sbr(tmp_path / "sms-backup.xml")
    (here, here_stats, here_error, here_progress), (there, stats, error, progress) = _both(android_xml, path)
    assert here_error is None and error is None
    assert there == here and len(there) == 8  # 7 SMS and the MMS, in file order
    _same_stats(stats, here_stats)
    assert stats.skip_reasons == {"no address": 1}
    assert stats.warnings == ["the backup says it holds 11 records but 9 were found"]
    assert progress[-1] == here_progress[-1] == (path.stat().st_size, path.stat().st_size)


def test_child_raises_the_truncation_after_every_complete_record(tmp_path: Path) -> None:
    path = _sbr(tmp_path / "cut.xml")
    path.write_bytes(path.read_bytes()[:-300])
    (here, here_stats, here_error, _), (there, stats, error, _) = _both(android_xml, path)
    assert isinstance(here_error, TruncatedArchive) and isinstance(error, TruncatedArchive)
    assert there == here and len(there) >= 5
    assert (error.message, error.path, error.hint, error.records_read, error.line) == (
        here_error.message,
        here_error.path,
        here_error.hint,
        here_error.records_read,
        here_error.line,
    )
    _same_stats(stats, here_stats)


@pytest.mark.parametrize("batch", [1, 3, 5000])
def test_child_reads_sqlite_archives_alike(tmp_path: Path, batch: int) -> None:
    for importer, path in (
        (ios_sms_db, make_ios16_db(tmp_path / "sms.db")),
        (android_mmssms, _story(tmp_path / "mmssms.db")),
    ):
        (here, here_stats, _, _), (there, stats, error, _) = _both(importer, path, batch)
        assert error is None and there == here and len(there) > 3
        _same_stats(stats, here_stats)


def test_a_killed_child_keeps_what_it_sent_and_says_so(tmp_path: Path) -> None:
    path = _sbr(tmp_path / "kill.xml")
    stats = ReadStats()
    records = []
    with pytest.raises(CorruptArchive) as caught:
        records.extend(read_in_process(_dying_importer, path, ReadOptions(), stats, batch=1))
    assert len(records) == 1
    assert (
        caught.value.message == "reading stopped: the parser process ended unexpectedly (killed by SIGKILL)"
    )
    assert caught.value.path == str(path)


def test_a_fault_in_the_child_is_raised_in_the_parent(tmp_path: Path) -> None:
    records = []
    with pytest.raises(ValueError, match="^an unexpected fault$"):
        records.extend(
            read_in_process(_dying_importer, _sbr(tmp_path / "raise.xml"), ReadOptions(), ReadStats())
        )
    assert len(records) == 1  # the stray print() in the child did not reach the stream
    path = _sbr(tmp_path / "unpicklable.xml")
    with pytest.raises(CorruptArchive) as caught:
        list(read_in_process(_dying_importer, path, ReadOptions(), ReadStats()))
    assert (caught.value.message, caught.value.path) == ("_Unpicklable: held a lock", str(path))


def test_import_through_a_child_stores_what_a_thread_stores(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sms_audit import pipeline
    from sms_audit.importers import _parse_process

    children = []
    real = _parse_process.read_batches_in_process

    def counted(*args, **kwargs):  # type: ignore[no-untyped-def]
        children.append(args[1].name)
        return real(*args, **kwargs)

    monkeypatch.setattr(_parse_process, "read_batches_in_process", counted)
    monkeypatch.setattr(_parse_process, "BATCH", 3)  # many batches; the region is inferred over several
    paths = [_sbr(tmp_path / "a.xml", 40), make_ios16_db(tmp_path / "sms.db"), _story(tmp_path / "mmssms.db")]
    dumps = []
    for threshold in (10**12, 0):  # never a child; always a child
        monkeypatch.setattr(pipeline, "PROCESS_READ_BYTES", threshold)
        db = tmp_path / f"store-{threshold}.sqlite"
        with Store(db) as store:
            results = import_archives(store, paths, region="US")
        assert [r.error for r in results] == [None, None, None]
        assert results[0].read == 41 and all(r.read > 0 for r in results)
        with sqlite3.connect(db) as conn:
            dumps.append(
                (
                    [(r.read, r.new, r.skipped, r.excluded, r.warnings) for r in results],
                    conn.execute(
                        "SELECT m.message_id, m.timestamp_us, m.address, m.body, m.source_record, l.label "
                        "FROM messages m JOIN labels l ON l.id = m.id ORDER BY m.id"
                    ).fetchall(),
                )
            )
    assert children == ["a.xml", "sms.db", "mmssms.db"]  # the second round only
    assert dumps[0] == dumps[1]
    assert len(dumps[0][1]) > 45


def test_a_damaged_archive_read_by_a_child_keeps_its_records_in_the_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sms_audit import pipeline
    from sms_audit.importers import _parse_process

    path = _sbr(tmp_path / "cut.xml", 12)
    path.write_bytes(path.read_bytes()[:-300])
    counts = []
    for threshold, batch in (
        (10**12, 3),
        (0, 3),
        (0, 100),
    ):  # in process; a child, the break in a later batch or the first
        monkeypatch.setattr(pipeline, "PROCESS_READ_BYTES", threshold)
        monkeypatch.setattr(_parse_process, "BATCH", batch)
        with Store(tmp_path / f"s-{threshold}-{batch}.sqlite") as store:
            (result,) = import_archives(store, [path], region="CN")
            counts.append((type(result.error).__name__, result.status, result.read, store.count_messages()))
    assert counts[0] == counts[1] == counts[2]
    assert counts[0][:2] == ("TruncatedArchive", "truncated") and counts[0][3] >= 10


def test_record_batch_is_a_sequence_of_records(tmp_path: Path) -> None:
    from sms_audit.model import RecordBatch

    records = list(android_xml.read_records(_sbr(tmp_path / "a.xml"), ReadOptions(), ReadStats()))
    batch = RecordBatch.from_records(records)
    assert len(batch) == len(records) == 8
    assert list(batch) == records and batch[2] == records[2] and batch[-1] == records[-1]
    assert list(batch[1:3]) == records[1:3] and isinstance(batch[1:3], RecordBatch)
    assert list(batch.take([4, 0])) == [records[4], records[0]]
    assert list(RecordBatch.concat([batch[:3], batch[3:]])) == records
    empty = RecordBatch.from_records([])
    assert len(empty) == 0 and list(empty) == []


@pytest.mark.parametrize("executable", ["/nonexistent/python3", "/bin/false", ""])
def test_without_a_working_child_the_archive_is_read_in_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, executable: str
) -> None:
    """No interpreter to start, or one that ends without a word: nothing was read, so the import
    reads in process instead of failing."""
    import sys

    from sms_audit import pipeline
    from sms_audit.importers._parse_process import ParserUnavailable, read_batches_in_process

    path = _sbr(tmp_path / "a.xml", 30)
    monkeypatch.setattr(sys, "executable", executable)
    with pytest.raises(ParserUnavailable):
        next(read_batches_in_process(android_xml, path, ReadOptions(), ReadStats()))
    monkeypatch.setattr(pipeline, "PROCESS_READ_BYTES", 0)
    with Store(tmp_path / "s.sqlite") as store:
        (result,) = import_archives(store, [path], region="CN")
        assert (result.error, result.read, result.skipped, store.count_messages()) == (None, 31, 1, 31)


def test_the_child_does_not_run_code_from_the_working_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A stray pickle.py or sms_audit/ where the user runs the tool is not imported by the child."""
    path = _sbr(tmp_path / "a.xml")
    folder = tmp_path / "downloads"
    (folder / "sms_audit" / "importers").mkdir(parents=True)
    marker = tmp_path / "ran"
    (folder / "pickle.py").write_text(f"open({str(marker)!r}, 'w').write('pickle')\\nraise SystemExit(9)\\n")
    (folder / "sms_audit" / "__init__.py").write_text(f"open({str(marker)!r}, 'w').write('package')\\n")
    monkeypatch.chdir(folder)
    records = list(read_in_process(android_xml, path, ReadOptions(), ReadStats()))
    assert len(records) == 8
    assert not marker.exists()
