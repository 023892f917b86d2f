"""The command line on MIUI backups, Huawei sms.db and bugle_db: summary lines, dedup, errors, reports."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from sms_audit.cli import app
from sms_audit.importers.huawei_backup import DECRYPT_HINT
from tests.fixtures_bugle import SELF, BugleDb
from tests.fixtures_huawei import Row, write_encrypted_backup, write_sms_db
from tests.fixtures_miui import Sms, bak, message_tar, sync_root, write_backup
from tests.importers.test_huawei_backup import BROADCASTS, ROWS
from tests.importers.test_miui_backup import PORT, STORY_MMS, STORY_SMS, ms

runner = CliRunner()
MIUI = "Xiaomi MIUI/HyperOS local backup (folder, .zip or .bak)"
HUAWEI = "Huawei/Honor backup sms.db (decrypted; sms_tb)"
BUGLE = "Google Messages bugle_db (SQLite)"
LAYOUT_WARNING = (
    "decoded 5 SMS and 3 MMS with a field layout known from MIUI 7 and inferred for V12.5.6.0.RFACNXM; "
    "compare the counts with the phone"
)


def _jsonl(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines()]


def test_import_miui_then_again_adds_nothing(tmp_path: Path) -> None:
    folder = write_backup(tmp_path / "20250921_101010", sms=STORY_SMS, mms=STORY_MMS)
    db = str(tmp_path / "store.sqlite")
    first = runner.invoke(app, ["--db", db, "import", str(folder)])
    assert first.exit_code == 0, first.stderr
    assert first.stdout == ""
    assert first.stderr.splitlines()[:2] == [
        (
            f"{folder}: {MIUI} (cepheus V12.5.6.0.RFACNXM): read 8, new 8, already present 0, skipped 0, "
            "excluded 1 non-messages"
        ),
        f"warning: {folder}: {LAYOUT_WARNING}",
    ]
    second = runner.invoke(app, ["--db", db, "import", str(folder)])
    assert second.exit_code == 0
    assert "read 8, new 0, already present 8, skipped 0, excluded 1 non-messages" in second.stderr
    imports = _jsonl(runner.invoke(app, ["--db", db, "imports"]).stdout)
    assert [(r["format"], r["status"], r["new"], r["region"]) for r in imports] == [
        ("miui_backup", "ok", 8, "CN"),
        ("miui_backup", "ok", 0, "CN"),
    ]
    assert len(imports[0]["sha256"]) == 64


def test_import_huawei_db_overlapping_miui_and_bugle(tmp_path: Path) -> None:
    huawei = write_sms_db(tmp_path / "sms.db", ROWS, BROADCASTS)
    folder = write_backup(tmp_path / "miui", sms=STORY_SMS[:2])
    bugle = tmp_path / "bugle_db"
    chat = BugleDb(bugle)
    conversation = chat.conversation("+12025550142")
    chat.message(conversation, chat.participant("+12025550142"), 1709740800000, "hi", protocol=3)
    chat.message(conversation, SELF, 1709740860000, "hello", protocol=3)
    chat.close()
    db = str(tmp_path / "store.sqlite")
    result = runner.invoke(
        app, ["--db", db, "--region", "CN", "import", str(huawei), str(folder), str(bugle)]
    )
    assert result.exit_code == 0, result.stderr
    lines = result.stderr.splitlines()
    assert f"{huawei}: {HUAWEI}: read 9, new 9, already present 0, skipped 1" in lines
    assert f"warning: {huawei}: skipped 1 record: no address" in lines
    # the same two SMS (marketing, TD) in the MIUI backup are already in the store
    assert any(
        line.startswith(f"{folder}: {MIUI} (cepheus V12.5.6.0.RFACNXM): read 2, new 0, already present 2")
        for line in lines
    )
    assert f"{bugle}: {BUGLE}: read 2, new 2, already present 0, skipped 0" in lines
    again = runner.invoke(app, ["--db", db, "import", str(huawei), str(bugle)])
    assert "read 9, new 0, already present 9, skipped 1" in again.stderr
    assert "read 2, new 0, already present 2, skipped 0" in again.stderr


def test_encrypted_inputs_are_one_line_errors(tmp_path: Path) -> None:
    encrypted = tmp_path / "短信(com.android.mms).bak"
    encrypted.write_bytes(bak(b"\x00" * 1024, encryption="AES-256"))
    result = runner.invoke(app, ["messages", str(encrypted)])
    assert result.exit_code == 3 and result.stdout == ""
    assert result.stderr.splitlines()[0] == (
        f"error: {encrypted}: encrypted MIUI backup (AES-256); sms-audit cannot read password-protected backups"
    )
    assert "Traceback" not in result.stderr
    huawei = write_encrypted_backup(tmp_path / "HUAWEI ELS-AN00_2025-09-15 10.10.10")
    result = runner.invoke(app, ["--db", str(tmp_path / "s.sqlite"), "import", str(huawei)])
    assert result.exit_code == 3
    assert result.stderr.splitlines() == [
        (
            f"error: {huawei}: encrypted Huawei/Honor backup (KoBackup/HiSuite): sms-audit reads its sms.db only once "
            "it is decrypted"
        ),
        f"hint: {DECRYPT_HINT}",
        f"store: {tmp_path / 's.sqlite'} (0 messages)",
    ]


def test_truncated_miui_bak_keeps_messages_and_exits_3(tmp_path: Path) -> None:
    many = [Sms(PORT, ms(2025, 9, 1) + i * 60_000, f"【优选商城】第{i}条 回TD退订") for i in range(40)]
    data = bak(message_tar(sync_root(many)))
    cut = tmp_path / "短信(com.android.mms).bak"
    cut.write_bytes(data[: len(data) // 2])
    result = runner.invoke(app, ["--db", str(tmp_path / "s.sqlite"), "import", str(cut)])
    assert result.exit_code == 3
    summary = next(line for line in result.stderr.splitlines() if line.startswith(f"{cut}: {MIUI}"))
    read = int(summary.split("read ")[1].split(",")[0])
    assert 0 < read < 40 and summary.endswith("(truncated)")
    assert f"warning: {cut}: read {read} records; the backup ends early" in result.stderr
    listed = _jsonl(runner.invoke(app, ["--db", str(tmp_path / "s.sqlite"), "messages"]).stdout)
    assert len(listed) == read


def _violation(result_stdout: str) -> list[tuple[str, str, str, str]]:
    return [
        (f["kind"], f["address"], f["local_time"], f["unsubscribe_keyword"])
        for f in _jsonl(result_stdout)
        if f["kind"] == "violation"
    ]


def test_report_finds_the_violation_in_a_miui_backup(tmp_path: Path) -> None:
    folder = write_backup(tmp_path / "20250921_101010", sms=STORY_SMS, mms=STORY_MMS)
    result = runner.invoke(app, ["report", str(folder), "--check", "--format", "jsonl"])
    assert result.exit_code == 1, result.stderr
    assert _violation(result.stdout) == [("violation", PORT, "2025-09-20T11:00:00+08:00", "TD")]
    assert "policy cn (region CN)" in result.stderr


def test_report_finds_the_violation_in_a_huawei_db(tmp_path: Path) -> None:
    rows = [
        Row(PORT, ms(2025, 9, 1, 10, 0), "【优选商城】中秋大促，全场5折，回TD退订"),
        Row(PORT, ms(2025, 9, 2, 20, 15), "TD", type=2),
        Row(PORT, ms(2025, 9, 20, 11, 0), "【优选商城】国庆专享券已到账，回TD退订"),
        Row("+8613800138001", ms(2025, 9, 3, 18, 30), "晚上一起吃饭吗？"),
    ]
    db = write_sms_db(tmp_path / "sms.db", rows)
    store = str(tmp_path / "store.sqlite")
    assert runner.invoke(app, ["--db", store, "import", str(db)]).exit_code == 0
    result = runner.invoke(app, ["--db", store, "report", "--check", "--format", "jsonl"])
    assert result.exit_code == 1, result.stderr
    assert _violation(result.stdout) == [("violation", PORT, "2025-09-20T11:00:00+08:00", "TD")]


def test_import_help_lists_the_formats() -> None:
    result = runner.invoke(app, ["import", "--help"], env={"COLUMNS": "400"})
    assert result.exit_code == 0
    for name in ("miui_backup", "huawei_backup", "google_messages"):
        assert f"{name}:" in result.stdout
