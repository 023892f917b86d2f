"""The store: private file, schema version, idempotent imports, atomic per-file transactions."""

from __future__ import annotations

import json
import sqlite3
import stat
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from sms_audit.errors import StoreError, TruncatedArchive
from sms_audit.importers import ReadOptions, ReadStats, android_xml
from sms_audit.model import Normalizer, to_frame
from sms_audit.pipeline import ArchiveResult, import_archives
from sms_audit.store import SCHEMA_VERSION, Store
from tests.fixtures_sbr import document, sms


def _backup(tmp_path: Path, name: str, *bodies: str, start: int = 0) -> Path:
    path = tmp_path / name
    path.write_text(
        document(*(sms("95555", 1700000000000 + (start + i) * 1000, b) for i, b in enumerate(bodies))),
        encoding="utf-8",
    )
    return path


def _import(store: Store, path: Path) -> ArchiveResult:
    (result,) = import_archives(store, [path], region="CN")
    if result.error is not None:
        raise result.error
    return result


def test_store_is_private_and_versioned(tmp_path: Path) -> None:
    path = tmp_path / "new" / "archive.sqlite"
    with Store(path):
        pass
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


def test_store_reimport_adds_nothing_and_overlap_adds_only_new(tmp_path: Path) -> None:
    first = _backup(tmp_path, "a.xml", "m0", "m1", "m2")
    overlap = _backup(tmp_path, "b.xml", "m1", "m2", "m3", start=1)
    with Store(tmp_path / "s.sqlite") as store:
        a = _import(store, first)
        again = _import(store, first)
        b = _import(store, overlap)
        assert (a.read, a.new, a.duplicates) == (3, 3, 0)
        assert (again.read, again.new, again.duplicates) == (3, 0, 3)
        assert (b.read, b.new, b.duplicates) == (3, 1, 2)
        assert store.count_messages() == 4
        records = store.imports()
        assert [r["new"] for r in records] == [3, 0, 1]
        assert records[0]["sha256"] and records[0]["size"] == first.stat().st_size
        assert records[0]["status"] == "ok" and records[0]["region"] == "CN"
        assert store.get_meta("region") == "CN"


def test_store_normalises_only_the_records_not_stored_yet(tmp_path: Path) -> None:
    """An overlapping backup's duplicates are dropped by key before the normaliser sees them."""
    region = Normalizer("CN")
    with Store(tmp_path / "s.sqlite") as store:
        _import(store, _backup(tmp_path, "a.xml", "m0", "m1", "m2"))
        path = _backup(tmp_path, "b.xml", "m1", "m2", "m3", start=1)  # m1, m2 stored already
        records = list(android_xml.read_records(path, ReadOptions(), ReadStats()))
        seen: list[list[str]] = []

        def to_columns(batch: Any) -> Any:
            seen.append([r.body for r in batch])
            return region.columns(batch, "sbr_xml", str(path))

        with store.importing(str(path), "sbr_xml") as writer:
            assert writer.add_records(records, to_columns) == 1
            assert writer.add_records(records[:2], to_columns) == 0
            writer.finish(
                status="ok", read=4, skipped=0, excluded=0, size=None, sha256=None, region="CN", details={}
            )
        assert seen == [["m3"]]  # only a batch with something new, and only that
        assert store.count_messages() == 4
        assert writer.new == 1 and writer.addresses == {"95555"}


def test_store_interrupted_import_leaves_store_unchanged(tmp_path: Path) -> None:
    with Store(tmp_path / "s.sqlite") as store:
        _import(store, _backup(tmp_path, "a.xml", "m0"))

        def interrupted() -> Iterator[dict[str, list[Any]]]:
            path = _backup(tmp_path, "b.xml", "x1", "x2", start=5)
            records = list(android_xml.read_records(path, ReadOptions(), ReadStats()))
            yield Normalizer("CN").columns(records, "sbr_xml", str(path))
            raise KeyboardInterrupt

        with pytest.raises(KeyboardInterrupt), store.importing("b.xml", "sbr_xml") as writer:
            for frame in interrupted():
                writer.add(frame)
        assert store.count_messages() == 1
        assert len(store.imports()) == 1


def test_store_truncated_import_keeps_complete_records(tmp_path: Path) -> None:
    path = _backup(tmp_path, "cut.xml", "m0", "m1", "m2")
    path.write_text(path.read_text()[:-40])
    with Store(tmp_path / "s.sqlite") as store:
        with pytest.raises(TruncatedArchive):
            _import(store, path)
        assert store.count_messages() == 2
        (record,) = store.imports()
        assert (record["status"], record["read"], record["new"]) == ("truncated", 2, 2)


def test_store_round_trips_messages(tmp_path: Path) -> None:
    path = _backup(tmp_path, "a.xml", "【招商银行】验证码：123456")
    direct = list(android_xml.read(path, ReadOptions(region="CN"), ReadStats()))
    with Store(tmp_path / "s.sqlite") as store:
        _import(store, path)
        frame = store.messages()
    (row,) = frame.to_dict("records")
    expected = direct[0].to_record()
    assert {k: (tuple(v) if k == "recipients" else v) for k, v in row.items()} == expected
    assert frame.dtypes.equals(to_frame(direct).dtypes)


def test_store_missing_without_create_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError) as info:
        Store(tmp_path / "none.sqlite", create=False)
    assert info.value.message == "no message store yet"


def _foreign(path: Path, *tables: str, version: int = 0) -> bytes:
    with closing(sqlite3.connect(path)) as conn:
        for name in tables:
            conn.execute(f"CREATE TABLE {name} (ROWID INTEGER PRIMARY KEY, text TEXT)")
        conn.execute(f"PRAGMA user_version = {version}")
        conn.commit()
    return path.read_bytes()


@pytest.mark.parametrize(
    ("tables", "version"),
    [
        (("message", "handle", "chat"), 0),  # an iPhone sms.db
        (("sms", "pdu", "threads"), 64),  # Android's mmssms.db (user_version set by the provider)
        (("messages",), 3),  # one table of the same name is not a store
        ((), 2),  # no tables but another program's version
    ],
)
@pytest.mark.parametrize("create", [False, True])
def test_store_refuses_a_foreign_database_and_leaves_it_untouched(
    tmp_path: Path, tables: tuple[str, ...], version: int, create: bool
) -> None:
    path = tmp_path / "sms.db"
    before = _foreign(path, *tables, version=version)
    with pytest.raises(StoreError) as info:
        Store(path, create=create)
    assert info.value.message == "not an sms-audit store: a database of something else, left untouched"
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sms.db"]  # no -wal, no -shm


def test_store_from_an_empty_file_only_when_importing(tmp_path: Path) -> None:
    path = tmp_path / "empty.sqlite"
    path.touch(mode=0o644)
    with pytest.raises(StoreError) as info:
        Store(path, create=False)
    assert info.value.message == "no message store yet (an empty file)"
    assert path.stat().st_size == 0
    with Store(path) as store:
        assert store.count_messages() == 0
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    with Store(path, create=False) as store:  # a store now
        assert store.count_messages() == 0


def test_store_not_a_database_is_a_clear_error(tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.sqlite"
    bogus.write_text("hello, not sqlite " * 100)
    with pytest.raises(StoreError) as info:
        Store(bogus)
    assert info.value.message.startswith("cannot open the store")


def test_store_seen_state(tmp_path: Path) -> None:
    with Store(tmp_path / "s.sqlite") as store:
        assert store.unseen("report", ["a", "b"]) == {"a", "b"}
        store.mark_seen("report", ["a"])
        assert store.unseen("report", ["a", "b"]) == {"b"}
        assert store.unseen("other", ["a"]) == {"a"}


def _counted(store: Store) -> tuple[int, Any, Any, list[tuple[Any, ...]]]:
    """The totals counted from the messages themselves (what the stored ones must equal)."""
    totals = store.totals()
    rows = sorted(map(tuple, totals.by_hour.itertuples(index=False)))
    return totals.messages, totals.first, totals.last, rows


def test_store_totals_are_kept_with_the_labels(tmp_path: Path) -> None:
    from tests.conftest import SAMPLE_DATA

    with Store(tmp_path / "s.sqlite") as store:
        _import(store, SAMPLE_DATA / "android-sms-backup.xml")
        kept = _counted(store)
        assert store.get_meta("totals") is not None
        store.conn.execute("DELETE FROM meta WHERE key = 'totals'")  # counted on the fly instead
        assert _counted(store) == kept
        assert kept[0] == 187 and sum(r[2] for r in kept[3]) == 187
        # a later import with new messages: the stored totals follow
        later = _backup(tmp_path, "later.xml", "【优选商城】年终清仓，拒收请回复R", start=10**6)
        _import(store, later)
        after = _counted(store)
        store.conn.execute("DELETE FROM meta WHERE key = 'totals'")
        assert _counted(store) == after and after[0] == 188
        # labels made again: still the same counts
        store.relabel(_relabel, "another fingerprint")
        assert _counted(store)[0] == 188


def test_store_totals_count_group_messages_apart(tmp_path: Path) -> None:
    """Group conversations are left out of a report; the totals say how many, also for a store
    whose stored totals predate the group count (three numbers instead of four)."""
    from tests.fixtures_sbr import mms

    members = [("+8613912345678", 137), ("+8613812345678", 151), ("+8613700000000", 151)]
    groups = [
        mms(
            "+8613912345678~+8613812345678",
            1700000000000 + i,
            1,
            [("text/plain", f"hi {i}")],
            members,
            _id=str(7000 + i),
            tr_id=f"T{i}",
        )
        for i in range(3)
    ]
    path = tmp_path / "mixed.xml"
    path.write_text(
        document(*groups, sms("10690000", 1700000100000, "【某店】大促 回T退订")), encoding="utf-8"
    )
    with Store(tmp_path / "s.sqlite") as store:
        _import(store, path)
        totals = store.totals()
        assert (totals.messages, totals.group_messages) == (1, 3)
        assert json.loads(store.get_meta("totals") or "")[3] == 3
        count, first, last, _ = json.loads(store.get_meta("totals") or "")
        store.set_meta("totals", json.dumps([count, first, last]))  # as an earlier 0.1.0 kept them
        assert (store.totals().messages, store.totals().group_messages) == (1, 3)
        store.conn.execute("DELETE FROM meta WHERE key = 'totals'")
        assert (store.totals().messages, store.totals().group_messages) == (1, 3)


def _relabel(frame: Any) -> Any:
    from sms_audit.classifier import classify_frame

    return classify_frame(frame, region="CN")


def test_store_migrates_to_stored_totals(tmp_path: Path) -> None:
    from tests.conftest import SAMPLE_DATA

    path = tmp_path / "s.sqlite"
    with Store(path) as store:
        _import(store, SAMPLE_DATA / "android-sms-backup.xml")
        expected = _counted(store)
    old = sqlite3.connect(path)  # the store as version 2 left it
    old.executescript("DROP TABLE hourly; DELETE FROM meta WHERE key = 'totals'; PRAGMA user_version = 2;")
    old.close()
    with Store(path) as store:
        assert store.get_meta("totals") is not None
        assert _counted(store) == expected


@pytest.mark.parametrize("fetch", [3, 7, 20_000])
def test_store_labels_equal_classifying_the_whole_archive_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fetch: int
) -> None:
    """Labelling in chunks (cut at sender boundaries, read through SQLite's sorter with only the
    classifier's input columns, staged and merged in id order) gives every message the label that
    classifying the whole archive in one frame gives it; a relabel gives the same again."""
    import sms_audit.store as store_module
    from sms_audit.classifier import classify_frame
    from sms_audit.store import CLASSIFIER_INPUT
    from tests.conftest import SAMPLE_DATA

    monkeypatch.setattr(store_module, "FETCH", fetch)
    seen: list[tuple[str, ...]] = []

    def spy(frame: Any) -> Any:
        seen.append(tuple(frame.columns))
        return classify_frame(frame, region="CN")

    with Store(tmp_path / "s.sqlite") as store:
        _import(store, SAMPLE_DATA / "android-sms-backup.xml")
        stored = {
            r[0]: r[1:]
            for r in store.conn.execute(
                "SELECT m.message_id, l.label, l.reason, l.brand, l.optout_keyword, l.is_trap "
                "FROM messages m JOIN labels l ON l.id = m.id"
            )
        }
        frame = next(iter(store.batches(None, limit=None, labelled=False)))
        whole = classify_frame(frame, region="CN")
        expected = {
            mid: (label, reason, brand, keyword, int(trap))
            for mid, label, reason, brand, keyword, trap in zip(
                whole["message_id"],
                whole["label"],
                whole["reason"],
                whole["brand"],
                whole["optout_keyword"],
                whole["is_trap"],
                strict=True,
            )
        }
        assert len(stored) == len(expected) == 189 and stored == expected
        assert store.relabel(spy, "again") == 189
        assert set(seen) == {CLASSIFIER_INPUT} and (len(seen) > 2) == (fetch < 189)
        again = {
            r[0]: r[1:]
            for r in store.conn.execute(
                "SELECT m.message_id, l.label, l.reason, l.brand, l.optout_keyword, l.is_trap "
                "FROM messages m JOIN labels l ON l.id = m.id"
            )
        }
        assert again == expected
        assert store.conn.execute("SELECT count(*) FROM temp.new_labels").fetchone()[0] == 0


def _secondary_indexes(store: Store) -> dict[str, str]:
    return dict(
        store.conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'messages' AND sql IS NOT NULL"
        ).fetchall()
    )


def test_large_import_builds_the_indexes_again_after_its_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sms_audit.store as store_module

    monkeypatch.setattr(store_module, "_DEFER_INDEXES_AT", 2)  # as if 2 rows were many
    with Store(tmp_path / "s.sqlite") as store:
        before = _secondary_indexes(store)
        assert set(before) == {"messages_by_address", "messages_by_time"}
        path = tmp_path / "a.xml"
        first = sms("95555", 1700000000000, "m0")
        path.write_text(
            document(first, sms("95555", 1700000001000, "m1"), sms("95555", 1700000002000, "m2"), first),
            encoding="utf-8",
        )
        records = list(android_xml.read_records(path, ReadOptions(), ReadStats()))
        with store.importing("a.xml", "sbr_xml") as writer:
            assert writer.add(Normalizer("CN").columns(records[:1], "sbr_xml", "a.xml")) == 1
            assert _secondary_indexes(store) == before  # one row: not yet
            assert writer.add(Normalizer("CN").columns(records[1:], "sbr_xml", "a.xml")) == 2
            assert _secondary_indexes(store) == {}  # dropped while the rows pour in
            writer.finish(
                status="ok", read=4, skipped=0, excluded=0, size=None, sha256=None, region="CN", details={}
            )
        assert _secondary_indexes(store) == before
        assert store.count_messages() == 3  # the repeat within the archive was dropped by its key
        plan = " ".join(
            str(row)
            for row in store.conn.execute("EXPLAIN QUERY PLAN SELECT * FROM messages WHERE address = 'x'")
        )
        assert "messages_by_address" in plan


@pytest.mark.parametrize("scratch", [False, True])
def test_large_import_rolled_back_keeps_the_indexes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, scratch: bool
) -> None:
    """Also in a scratch store (a direct read's: its rollback journal is in memory, no WAL)."""
    import sms_audit.store as store_module

    monkeypatch.setattr(store_module, "_DEFER_INDEXES_AT", 1)
    with Store(tmp_path / "s.sqlite", scratch=scratch) as store:
        mode = store.conn.execute("PRAGMA journal_mode").fetchone()[0]
        assert mode == ("memory" if scratch else "wal")
        _import(store, _backup(tmp_path, "a.xml", "m0"))
        before = _secondary_indexes(store)
        path = _backup(tmp_path, "b.xml", "x1", "x2", start=5)
        records = list(android_xml.read_records(path, ReadOptions(), ReadStats()))
        with pytest.raises(KeyboardInterrupt), store.importing("b.xml", "sbr_xml") as writer:
            writer.add(Normalizer("CN").columns(records, "sbr_xml", "b.xml"))
            assert _secondary_indexes(store) == {}  # 2 new rows double a store of 1
            raise KeyboardInterrupt
        assert _secondary_indexes(store) == before
        assert store.count_messages() == 1


def test_import_into_a_large_store_keeps_its_indexes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import sms_audit.store as store_module

    monkeypatch.setattr(store_module, "_DEFER_INDEXES_AT", 1)
    with Store(tmp_path / "s.sqlite") as store:
        _import(store, _backup(tmp_path, "a.xml", "m0", "m1", "m2"))
        before = _secondary_indexes(store)
        path = _backup(tmp_path, "b.xml", "x1", start=5)
        records = list(android_xml.read_records(path, ReadOptions(), ReadStats()))
        with store.importing("b.xml", "sbr_xml") as writer:
            writer.add(Normalizer("CN").columns(records, "sbr_xml", "b.xml"))
            assert _secondary_indexes(store) == before  # 1 new row to 3 stored: kept
            writer.finish(
                status="ok", read=1, skipped=0, excluded=0, size=None, sha256=None, region="CN", details={}
            )
        assert store.count_messages() == 4


@pytest.mark.parametrize(
    ("failure", "hint"),
    [
        ("attempt to write a readonly database", "the store or its folder is read-only"),
        ("file is not a database", "is it an sms-audit store?"),
    ],
)
def test_store_that_cannot_be_opened_says_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failure: str, hint: str
) -> None:
    """A store in a read-only folder (WAL needs its -wal/-shm files beside it) is told apart from a
    file that is no store."""
    db = tmp_path / "store.sqlite"
    Store(db).close()

    def fail(self: Store) -> None:
        raise sqlite3.OperationalError(failure)

    monkeypatch.setattr(Store, "_migrate", fail)
    with pytest.raises(StoreError) as info:
        Store(db)
    assert str(info.value.hint).startswith(hint) and failure in str(info.value)


def test_direct_reads_use_a_scratch_store_removed_afterwards() -> None:
    """Archives given on the command line are read into a private scratch store (no WAL, nothing
    synced), deleted with its folder afterwards."""
    from sms_audit.pipeline import ephemeral_store

    with ephemeral_store() as store:
        folder = store.path.parent
        assert store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "memory"
        assert store.conn.execute("PRAGMA synchronous").fetchone()[0] == 0
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert not folder.exists()
