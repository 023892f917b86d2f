"""The command line: streams, formats, exit codes, errors and scheduled (idempotent) use."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from sms_audit.classifier import CLASSIFY_COLUMNS
from sms_audit.cli import MESSAGES_COLUMNS, app
from tests.conftest import REPO, SAMPLE_DATA
from tests.fixtures_sbr import document, sms

SAMPLE = SAMPLE_DATA / "android-sms-backup.xml"
runner = CliRunner()


def _jsonl(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines()]


def _truncated(tmp_path: Path) -> Path:
    text = document(*(sms("10690123456701", 1700000000000 + i * 1000, f"m{i}") for i in range(5)))
    path = tmp_path / "sms-cut.xml"
    path.write_text(text[: text.index("m4") + 2], encoding="utf-8")
    return path


def _classify_text(path: Path, text: str, *args: str) -> Any:
    """Write ``text`` (UTF-8) to ``path`` and run ``sms-audit classify path *args`` on it."""
    path.write_text(text, encoding="utf-8")
    return runner.invoke(app, ["classify", str(path), *args])


def test_cli_messages_from_archive_pipe_gives_jsonl() -> None:
    result = runner.invoke(app, ["messages", str(SAMPLE)])
    assert result.exit_code == 0, result.stderr
    rows = _jsonl(result.stdout)
    assert len(rows) == 189
    assert list(rows[0]) == list(MESSAGES_COLUMNS)
    assert rows[0]["timestamp"] <= rows[-1]["timestamp"]
    assert result.stderr == f"{SAMPLE}: SMS Backup & Restore XML (.xml or .zip)\n189 messages\n"


def test_cli_messages_label_column_and_filter() -> None:
    result = runner.invoke(app, ["messages", str(SAMPLE), "--label", "unsubscribe-reply"])
    assert result.exit_code == 0, result.stderr
    rows = _jsonl(result.stdout)
    assert {r["label"] for r in rows} == {"unsubscribe-reply"}
    # "1" answers the trap's "回复1确认退订": an unsubscribe by intent (the report flags the trap)
    assert sorted(r["body"] for r in rows) == ["1", "R", "T", "TD", "TD", "退订"]
    friend = runner.invoke(
        app, ["messages", str(SAMPLE), "--sender", "+8613900001111", "--search", "T", "--direction", "out"]
    )
    assert [(r["body"], r["label"]) for r in _jsonl(friend.stdout)][:1] == [("T", "other")]
    # names typed in another case or with spaces mean the same
    typed = runner.invoke(
        app, ["messages", str(SAMPLE), "--label", " Unsubscribe-Reply", "--direction", "OUT"]
    )
    assert typed.exit_code == 0, typed.stderr
    assert _jsonl(typed.stdout) == rows


def test_cli_messages_filters() -> None:
    result = runner.invoke(app, ["messages", str(SAMPLE), "--sender", "10690123456701", "--direction", "out"])
    assert [(r["body"], r["timestamp"]) for r in _jsonl(result.stdout)] == [
        ("TD", "2025-09-10T12:15:00.000Z")
    ]
    window = runner.invoke(
        app,
        [
            "messages",
            str(SAMPLE),
            "--since",
            "2025-09-10T12:00:00Z",
            "--until",
            "2025-09-11",
            "--format",
            "csv",
        ],
    )
    lines = window.stdout.splitlines()
    assert lines[0] == ",".join(MESSAGES_COLUMNS)
    # 2025-09-11 is midnight in Shanghai (the sample's zone): the 18:15 UTC reply is 02:15 on the 11th
    assert [line.split(",")[1] for line in lines[1:]] == ["2025-09-10T12:15:00.000Z"]
    everything = _jsonl(runner.invoke(app, ["messages", str(SAMPLE)]).stdout)
    latest = runner.invoke(app, ["messages", str(SAMPLE), "--limit", "2", "--newest-first"])
    assert _jsonl(latest.stdout) == everything[::-1][:2]
    searched = runner.invoke(app, ["messages", str(SAMPLE), "--search", "退订成功"])
    assert len(_jsonl(searched.stdout)) == 1


def test_cli_bad_option_values_are_usage_errors() -> None:
    result = runner.invoke(app, ["messages", str(SAMPLE), "--since", "yesterday"])
    assert result.exit_code == 2
    assert result.stderr.startswith("error: not a date, time or duration: 'yesterday'")
    assert result.stdout == ""
    result = runner.invoke(app, ["messages", str(SAMPLE), "--label", "spam"])
    assert result.exit_code == 2
    assert "error: unknown label 'spam'\nhint: one of: verification" in result.stderr
    assert runner.invoke(app, ["messages", "--no-such-flag"]).exit_code == 2
    assert runner.invoke(app, ["--region", "XX", "messages"]).exit_code == 2


def test_cli_import_twice_reports_zero_new(tmp_path: Path) -> None:
    db = tmp_path / "store.sqlite"
    first = runner.invoke(app, ["--db", str(db), "import", str(SAMPLE)])
    assert first.exit_code == 0, first.stderr
    assert (
        f"{SAMPLE}: SMS Backup & Restore XML (.xml or .zip): read 189, new 189, already present 0, "
        "skipped 0" in first.stderr
    )
    second = runner.invoke(app, ["--db", str(db), "import", str(SAMPLE)])
    assert second.exit_code == 0
    assert "read 189, new 0, already present 189, skipped 0" in second.stderr
    assert first.stdout == second.stdout == ""
    assert stat.S_IMODE(db.stat().st_mode) == 0o600
    stored = runner.invoke(app, ["--db", str(db), "messages"])
    assert len(_jsonl(stored.stdout)) == 189
    direct = runner.invoke(app, ["messages", str(SAMPLE)])
    assert stored.stdout == direct.stdout  # the store gives exactly what the archive gives


def test_cli_imports_lists_import_records(tmp_path: Path) -> None:
    db = tmp_path / "store.sqlite"
    runner.invoke(app, ["--db", str(db), "-q", "import", str(SAMPLE)])
    runner.invoke(app, ["--db", str(db), "-q", "import", str(SAMPLE)])
    rows = _jsonl(runner.invoke(app, ["--db", str(db), "imports"]).stdout)
    assert [
        (r["import_id"], r["format"], r["status"], r["read"], r["new"], r["duplicates"]) for r in rows
    ] == [(1, "sbr_xml", "ok", 189, 189, 0), (2, "sbr_xml", "ok", 189, 0, 189)]
    assert rows[0]["size"] == SAMPLE.stat().st_size and len(rows[0]["sha256"]) == 64
    assert rows[0]["region"] == "CN"


def test_cli_db_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "env.sqlite"
    monkeypatch.setenv("SMS_AUDIT_DB", str(db))
    assert runner.invoke(app, ["-q", "import", str(SAMPLE)]).exit_code == 0
    assert db.exists()


def test_cli_default_store_location(isolated_env: Path) -> None:
    assert runner.invoke(app, ["-q", "import", str(SAMPLE)]).exit_code == 0
    assert (isolated_env / "data" / "sms-audit" / "archive.sqlite").exists()


def test_cli_truncated_archive_exits_3_and_keeps_records(tmp_path: Path) -> None:
    path = _truncated(tmp_path)
    result = runner.invoke(app, ["messages", str(path)])
    assert result.exit_code == 3
    assert len(_jsonl(result.stdout)) == 4
    assert f"warning: {path}: read 4 records; file is truncated at line 8\n" in result.stderr
    db = tmp_path / "s.sqlite"
    imported = runner.invoke(app, ["--db", str(db), "import", str(path), str(SAMPLE)])
    assert imported.exit_code == 3  # the other archive is still imported
    assert "read 4, new 4, already present 0, skipped 0 (truncated)" in imported.stderr
    assert "read 189, new 189" in imported.stderr


def test_cli_call_log_is_a_one_line_error(tmp_path: Path) -> None:
    calls = tmp_path / "calls-20251130.xml"
    calls.write_text(
        '<?xml version="1.0"?>\n<calls count="1"><call number="10086" date="1" type="1"/></calls>'
    )
    result = runner.invoke(app, ["-q", "messages", str(calls)])
    assert result.exit_code == 3
    assert result.stderr == (
        f"error: {calls}: this is a call log, not messages (root element is <calls>)\n"
        "hint: pass the sms-*.xml file of the same backup, not calls-*.xml\n"
    )
    assert result.stdout == ""


def test_cli_unsupported_and_missing_files(tmp_path: Path) -> None:
    junk = tmp_path / "notes.txt"
    junk.write_text("hello")
    result = runner.invoke(app, ["-q", "messages", str(junk), str(tmp_path / "gone.xml")])
    assert result.exit_code == 3
    lines = result.stderr.splitlines()
    assert lines[0] == f"error: {junk}: not a supported archive"
    assert lines[1].startswith("hint: supported: SMS Backup & Restore XML")
    assert f"error: {tmp_path / 'gone.xml'}: no such file or directory" in lines


def test_cli_the_same_hint_is_given_once_per_run(tmp_path: Path) -> None:
    """Ten unsupported files are ten errors, but one list of the supported formats."""
    junk = [tmp_path / name for name in ("a.txt", "b.bin", "c.pdf")]
    for path in junk:
        path.write_bytes(b"not messages\n")
    db = tmp_path / "s.sqlite"
    result = runner.invoke(
        app, ["-q", "--db", str(db), "import", *map(str, junk), str(tmp_path / "gone.xml")]
    )
    assert result.exit_code == 3
    lines = result.stderr.splitlines()
    assert [line for line in lines if line.startswith("error:")] == [
        *(f"error: {path}: not a supported archive" for path in junk),
        f"error: {tmp_path / 'gone.xml'}: no such file or directory",
    ]
    hints = [line for line in lines if line.startswith("hint:")]
    assert len(hints) == 1 and hints[0].startswith("hint: supported: SMS Backup & Restore XML")
    assert lines.index(hints[0]) == 1  # right after the first error it explains


def test_cli_no_store_yet(tmp_path: Path) -> None:
    result = runner.invoke(app, ["--db", str(tmp_path / "none.sqlite"), "messages"])
    assert result.exit_code == 3
    assert result.stderr == (
        f"error: {tmp_path / 'none.sqlite'}: no message store yet\n"
        "hint: import an archive first: sms-audit import FILE\n"
    )


@pytest.mark.parametrize("command", [["messages"], ["report"], ["imports"], ["import", "x.xml"]])
def test_cli_a_phone_database_as_db_is_refused_and_left_untouched(tmp_path: Path, command: list[str]) -> None:
    phone = tmp_path / "sms.db"
    phone.write_bytes((REPO / "sample_data" / "iphone-sms.db").read_bytes())
    before = phone.read_bytes()
    (tmp_path / "x.xml").write_text(document(sms("95555", 1_700_000_000_000, "hi")), encoding="utf-8")
    args = [str(tmp_path / a) if a.endswith(".xml") else a for a in command]
    result = runner.invoke(app, ["--db", str(phone), *args])
    assert result.exit_code == 3
    assert result.stderr == (
        f"error: {phone}: not an sms-audit store: a database of something else, left untouched\n"
        "hint: to read it as an archive: sms-audit import PATH (--db names sms-audit's own store)\n"
    )
    assert phone.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sms.db", "x.xml"]


def test_cli_debug_shows_the_exception(tmp_path: Path) -> None:
    result = runner.invoke(app, ["--debug", "--db", str(tmp_path / "none.sqlite"), "messages"])
    assert type(result.exception).__name__ == "StoreError"


def test_cli_quiet_silences_info_not_errors(tmp_path: Path) -> None:
    ok = runner.invoke(app, ["-q", "messages", str(SAMPLE)])
    assert ok.stderr == ""
    bad = runner.invoke(app, ["-q", "messages", str(_truncated(tmp_path))])
    assert "file is truncated" in bad.stderr


def test_cli_table_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sms_audit.output.stdout_is_tty", lambda: True)
    hostile = {"direction": "in", "sender": "10690000000001", "body": "[bold]BIG[/bold] \x1b[31mred\x1b[0m"}
    result = runner.invoke(app, ["classify", "-"], input=json.dumps(hostile) + "\n")
    assert result.exit_code == 0
    assert result.stdout.splitlines()[0].split()[:3] == ["Dir", "Sender", "Label"]
    assert "[bold]BIG[/bold]" in result.stdout
    assert "\x1b" not in result.stdout and "\\x1b[31mred" in result.stdout
    listed = runner.invoke(app, ["messages", str(SAMPLE), "--limit", "3"])
    assert listed.stdout.startswith("Messages (times in Asia/Shanghai)\nTime ")


def test_cli_output_file(tmp_path: Path) -> None:
    target = tmp_path / "out.json"
    result = runner.invoke(app, ["messages", str(SAMPLE), "--format", "json", "-o", str(target)])
    assert result.exit_code == 0 and result.stdout == ""
    document_ = json.loads(target.read_text(encoding="utf-8"))
    assert document_["schema_version"] == 1 and len(document_["messages"]) == 189
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


def test_cli_format_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMS_AUDIT_FORMAT", "csv")
    result = runner.invoke(app, ["messages", str(SAMPLE), "--limit", "1"])
    assert result.stdout.splitlines()[0] == ",".join(MESSAGES_COLUMNS)


def test_cli_classify_stdin_keeps_input_fields() -> None:
    lines = [
        {"id": "a1", "direction": "out", "sender": "10690123456701", "body": "TD"},
        {"id": "a2", "direction": "out", "sender": "+8613900001111", "body": "T"},
    ]
    result = runner.invoke(app, ["classify", "-"], input="\n".join(json.dumps(x) for x in lines) + "\n")
    assert result.exit_code == 0, result.stderr
    rows = _jsonl(result.stdout)
    assert [(r["id"], r["label"]) for r in rows] == [("a1", "unsubscribe-reply"), ("a2", "other")]
    assert list(rows[0])[:4] == ["id", "direction", "sender", "body"]


def test_cli_help_lists_every_command() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("import", "messages", "classify", "report", "evidence"):
        assert command in result.stdout


def _run(*args: str, **kwargs: object) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMS_AUDIT_")}
    return subprocess.run(
        [sys.executable, "-m", "sms_audit", *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=env,
        check=False,
        **kwargs,
    )  # type: ignore[call-overload]


def test_cli_subprocess_help_and_version() -> None:
    assert "Usage" in _run("--help").stdout
    assert _run("--version").stdout.startswith("sms-audit ")


def test_cli_every_command_help_works_with_a_broken_config_and_loads_no_heavy_module(
    tmp_path: Path,
) -> None:
    """`CMD --help` is text: it must not fail on a bad region or config, nor import pandas,
    pyarrow, lxml, phonenumbers or pydantic (typer coerces options through pydantic)."""
    (tmp_path / "config.toml").write_text("region = [not toml", encoding="utf-8")
    env = {**os.environ, "SMS_AUDIT_REGION": "ZZ", "SMS_AUDIT_CONFIG_DIR": str(tmp_path)}
    probe = (
        "import sys, runpy; sys.argv = ['sms-audit'] + sys.argv[1:]\n"
        "try:\n    runpy.run_module('sms_audit', run_name='__main__')\n"
        "except SystemExit as exc:\n"
        "    heavy = sorted({'pandas', 'pyarrow', 'lxml', 'phonenumbers', 'pydantic'} & set(sys.modules))\n"
        "    sys.stderr.write(f'exit={exc.code} heavy={heavy}\\n')\n"
    )
    commands = [c.name for c in app.registered_commands]
    assert commands == ["import", "imports", "messages", "classify", "report", "evidence", "share", "league"]
    for command in commands:
        for args in ([command, "--help"], ["-q", "--db", "x.sqlite", command, "-h"]):
            result = subprocess.run(
                [sys.executable, "-c", probe, *args], capture_output=True, text=True, env=env, check=False
            )
            assert result.stdout.startswith(f"Usage: sms-audit {command} "), (args, result.stdout[:200])
            assert result.stderr == "exit=0 heavy=[]\n", (args, result.stderr)


def test_cli_help_request_is_found_only_in_the_commands_own_options() -> None:
    from sms_audit.cli import help_request

    def takes(name: str) -> set[str]:
        return {"--search", "-o"} if name == "messages" else set()

    assert help_request(["report", "--help"], takes) == "report"
    assert help_request(["-q", "--db", "x", "report", "--format", "json", "-h"], takes) == "report"
    assert help_request(["--db", "--help", "report"], takes) is None  # a store named --help
    assert help_request(["messages", "--search", "--help"], takes) is None  # a search for it
    assert help_request(["messages", "--search", "x", "--help"], takes) == "messages"
    assert help_request(["messages", "--", "--help"], takes) is None
    assert help_request(["--help"], takes) is None  # the group's own help: click prints it
    assert help_request([], takes) is None


def test_cli_subprocess_pipe_into_head_exits_quietly() -> None:
    shell = f"{sys.executable} -m sms_audit messages {SAMPLE} | head -3; exit ${{PIPESTATUS[0]}}"
    result = subprocess.run(["bash", "-c", shell], capture_output=True, text=True, cwd=REPO, check=False)
    assert result.returncode == 0
    assert len(result.stdout.splitlines()) == 3
    assert all(json.loads(line)["message_id"] for line in result.stdout.splitlines())
    assert "Traceback" not in result.stderr and "BrokenPipe" not in result.stderr


def test_cli_interrupt_exits_130_and_bug_exits_70(monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(*_args: object, **_kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("sms_audit.pipeline.import_archives", interrupted)
    result = runner.invoke(app, ["messages", str(SAMPLE)])
    assert (result.exit_code, result.stderr, result.stdout) == (130, "interrupted\n", "")

    def broken(*_args: object, **_kwargs: object) -> None:
        raise ZeroDivisionError("secret message text")

    monkeypatch.setattr("sms_audit.pipeline.import_archives", broken)
    result = runner.invoke(app, ["messages", str(SAMPLE)])
    assert result.exit_code == 70
    assert result.stderr == (
        "error: internal error (ZeroDivisionError); run again with --debug for the "
        "traceback and please report it\n"
    )


# A user who joined their building's group-buy list does not want it counted as marketing.
RULE_FILE = """[[rule]]
id = "user.building-group-buy"
label = "other"
direction = "in"
priority = 95
pattern = '【物业之家】'
"""


def test_cli_user_rules_change_a_label(isolated_env: Path) -> None:
    rules = isolated_env / "config" / "sms-audit" / "rules"
    rules.mkdir(parents=True)
    line = (
        json.dumps(
            {
                "direction": "in",
                "sender": "1069012340000",
                "body": "【物业之家】社区团购今晚开团，新鲜水果全场5折，拼单立减，回T退订",
            }
        )
        + "\n"
    )
    before = _jsonl(runner.invoke(app, ["classify", "-"], input=line).stdout)[0]
    assert before["label"] == "marketing" and before["reason"].startswith("model.marketing ")
    (rules / "mine.toml").write_text(RULE_FILE, encoding="utf-8")
    after = _jsonl(runner.invoke(app, ["classify", "-"], input=line).stdout)[0]
    assert (after["label"], after["reason"]) == ("other", "user.building-group-buy: 【物业之家】")
    (rules / "mine.toml").write_text(RULE_FILE.replace('"other"', '"spam"'), encoding="utf-8")
    broken = runner.invoke(app, ["classify", "-"], input=line)
    assert broken.exit_code == 2
    assert broken.stderr.startswith(f"error: {rules / 'mine.toml'}: ")
    assert "Traceback" not in broken.stderr and broken.stdout == ""


def test_cli_classify_tsv_file_in_input_order(tmp_path: Path) -> None:
    source = tmp_path / "mine.tsv"
    source.write_text(
        "id\tdirection\tsender\tbody\n"
        "7\tin\t95555\t【招商银行】验证码：482913，您正在登录手机银行。回TD退订\n"
        "3\tout\t1069012345671\tTD\n"
        "5\tin\t1069012345671\t【优选商城】会员日全场满199减50 回T退订\n",
        encoding="utf-8",
    )
    result = runner.invoke(app, ["classify", str(source), "--format", "csv"])
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("id,direction,sender,body,label,reason,sender_kind,brand")
    rows = [line.split(",") for line in lines[1:]]
    assert [(r[0], r[4]) for r in rows] == [
        ("7", "verification"),
        ("3", "unsubscribe-reply"),
        ("5", "marketing"),
    ]


def test_cli_messages_time_filter_keeps_each_senders_history(tmp_path: Path) -> None:
    """The reply "1" is an unsubscribe only because the same number asked for "1" just before;
    a --since between the two must not lose that context (store and archive alike)."""
    db = tmp_path / "s.sqlite"
    runner.invoke(app, ["--db", str(db), "-q", "import", str(SAMPLE)])
    for source in ([], [str(SAMPLE)]):
        result = runner.invoke(
            app,
            [
                "--db",
                str(db),
                "messages",
                *source,
                "--since",
                "2025-10-21T14:50:00Z",
                "--until",
                "2025-10-22",
                "--direction",
                "out",
            ],
        )
        rows = _jsonl(result.stdout)
        assert [(r["body"], r["label"], r["reason"]) for r in rows] == [
            ("1", "unsubscribe-reply", "context.keyword-echo: 1")
        ]


@pytest.mark.parametrize(
    "args",
    [
        ["--limit", "7", "--newest-first"],
        ["--limit", "5"],
        ["--limit", "4", "--since", "2025-10-21T14:50:00Z", "--direction", "out"],
        ["--limit", "3", "--search", "td", "--newest-first"],
        ["--limit", "3", "--sender", "10690123456702"],
        ["--label", "marketing", "--search", "退订", "--limit", "9"],
        ["--sender", "13900004321"],  # a national number, read in the store's region (CN)
    ],
)
def test_cli_messages_on_the_store_match_the_archive(tmp_path: Path, args: list[str]) -> None:
    """Filters run in SQL on stored labels; the output equals reading the archive directly."""
    db = tmp_path / "s.sqlite"
    runner.invoke(app, ["--db", str(db), "-q", "import", str(SAMPLE)])
    stored = runner.invoke(app, ["--db", str(db), "messages", *args])
    direct = runner.invoke(app, ["messages", str(SAMPLE), *args])
    assert stored.exit_code == direct.exit_code == 0
    assert stored.stdout == direct.stdout and stored.stdout


def test_cli_import_backup_folder_records_the_sms_db_hash(tmp_path: Path) -> None:
    import hashlib

    from tests.conftest import sample_path

    folder = sample_path("iosbackup-mvt-ios14")
    sms_db = folder / "3d" / "3d0d7e5fb2ce288813306e4d4636395e047a3d28"
    db = tmp_path / "s.sqlite"
    imported = runner.invoke(app, ["--db", str(db), "import", str(folder)])
    assert imported.exit_code == 0
    assert (
        f"{folder}: iOS backup folder (iTunes/Finder, also encrypted) (iPhone, 14.3): read 1, new 1"
        in imported.stderr
    )
    (record,) = _jsonl(runner.invoke(app, ["--db", str(db), "imports"]).stdout)
    assert record["sha256"] == hashlib.sha256(sms_db.read_bytes()).hexdigest()
    assert record["details"]["sha256_of"] == "sms.db in the backup folder"
    assert record["details"]["ios_version"] == "14.3"


def test_cli_import_a_folder_of_backups(tmp_path: Path) -> None:
    folder = tmp_path / "backups"
    folder.mkdir()
    (folder / "sms-20251130.xml").write_bytes(SAMPLE.read_bytes())
    (folder / "sms-20251201.xml").write_text(
        document(sms("95555", 1764600000000, "new one")), encoding="utf-8"
    )
    (folder / "readme.txt").write_text("not an archive", encoding="utf-8")
    db = tmp_path / "s.sqlite"
    result = runner.invoke(app, ["--db", str(db), "import", str(folder)])
    assert result.exit_code == 0, result.stderr
    assert "sms-20251130.xml: SMS Backup & Restore XML (.xml or .zip): read 189, new 189" in result.stderr
    assert "sms-20251201.xml: SMS Backup & Restore XML (.xml or .zip): read 1, new 1" in result.stderr
    assert "readme.txt" not in result.stderr
    empty = tmp_path / "empty"
    empty.mkdir()
    missing = runner.invoke(app, ["--db", str(db), "import", str(empty)])
    assert missing.exit_code == 3
    assert missing.stderr.startswith(
        f"error: no archive found in {empty} (looked for: SMS Backup & Restore XML"
    )


def test_cli_global_options_after_the_command_name(tmp_path: Path) -> None:
    db = tmp_path / "s.sqlite"
    imported = runner.invoke(app, ["import", str(SAMPLE), "--db", str(db), "-q"])
    assert imported.exit_code == 0, imported.stderr
    assert imported.stderr == "" and db.exists()
    after = runner.invoke(app, ["report", f"--db={db}", "--format", "json", "--region", "CN", "-q"])
    before = runner.invoke(app, ["--db", str(db), "-q", "--region", "CN", "report", "--format", "json"])
    assert after.exit_code == before.exit_code == 0
    assert json.loads(after.stdout)["counts"] == json.loads(before.stdout)["counts"]
    assert after.stderr == before.stderr == ""
    bad = runner.invoke(app, ["messages", "--region", "XX"])
    assert bad.exit_code == 2 and bad.stderr.startswith("error: unknown region 'XX'")


def test_cli_global_option_names_inside_values_stay_values() -> None:
    from sms_audit.cli import hoist_global_options

    def takes(name: str) -> set[str]:
        return {"--search", "--since", "-o", "--output"} if name == "messages" else set()

    assert hoist_global_options(["messages", "--search", "-q", "x.xml", "-v"], takes) == [
        "-v",
        "messages",
        "--search",
        "-q",
        "x.xml",
    ]
    assert hoist_global_options(["-q", "report", "--db", "a", "--", "--db"], takes) == [
        "-q",
        "--db",
        "a",
        "report",
        "--",
        "--db",
    ]
    assert hoist_global_options(["--db", "x", "imports"], takes) == ["--db", "x", "imports"]


def test_cli_classify_streams_every_shape_of_input_back_in_order(tmp_path: Path) -> None:
    """Messages are re-read from a spool for the output: a field first seen late, a body with
    U+2028 (not a line break in JSONL), and a CSV body with a quoted line break all come back
    as given, in input order, each with its own labels."""
    jsonl = tmp_path / "in.jsonl"
    jsonl.write_text(
        '{"direction": "in", "sender": "10690123456701", "body": "【优选商城】双11狂欢\u2028满减，回T退订"}\n'
        "\n"
        '{"direction": "out", "sender": "10690123456701", "body": "T", "timestamp": "2025-11-02T10:00:00Z"}\n'
        '{"direction": "in", "sender": "+8613800138000", "body": "晚上一起吃饭吗", "n": 3}\n',
        encoding="utf-8",
    )
    result = runner.invoke(app, ["classify", str(jsonl), "--format", "jsonl"])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.split("\n") if line]
    assert [r["body"] for r in rows] == ["【优选商城】双11狂欢\u2028满减，回T退订", "T", "晚上一起吃饭吗"]
    assert [r["label"] for r in rows] == ["marketing", "unsubscribe-reply", "other"]
    assert "timestamp" not in rows[0] and rows[1]["timestamp"] == "2025-11-02T10:00:00Z"
    assert rows[2]["n"] == 3 and "n" not in rows[0]
    csv_file = tmp_path / "in.csv"
    csv_file.write_text(
        'direction,address,body\r\nin,95555,"line one\r\nline two"\r\nout,95555,hello\r\n', encoding="utf-8"
    )
    result = runner.invoke(app, ["classify", str(csv_file), "--format", "jsonl"])
    rows = [json.loads(line) for line in result.stdout.split("\n") if line]
    assert [(r["direction"], r["body"]) for r in rows] == [("in", "line one\r\nline two"), ("out", "hello")]


@pytest.mark.parametrize("args", [["--limit", "1"], []])
def test_cli_messages_stopped_early_prints_nothing_but_the_rows(tmp_path: Path, args: list[str]) -> None:
    """A read ended early (--limit, or a reader that closes the pipe) leaves no 'Exception
    ignored' about a cursor of a closed store on stderr."""
    db = tmp_path / "s.sqlite"
    backup = tmp_path / "sms.xml"  # more messages than one streamed batch (STREAM_BATCH)
    rows = [
        sms(f"1069{i % 300:08d}", 1700000000000 + i * 1000, f"【店{i % 300}】第{i}期 回T退订")
        for i in range(12_000)
    ]
    backup.write_text(document(*rows), encoding="utf-8")
    assert runner.invoke(app, ["--db", str(db), "-q", "import", str(backup)]).exit_code == 0
    command = [sys.executable, "-m", "sms_audit", "--db", str(db), "messages", "--format", "jsonl", *args]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=REPO)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.read(1)
    proc.stdout.close()  # as `| head -c 1` does
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 0
    assert "Exception" not in err and "Traceback" not in err, err


def test_cli_classify_warns_when_input_fields_are_replaced_and_names_the_path(tmp_path: Path) -> None:
    given = tmp_path / "sub" / "mine.jsonl"
    given.parent.mkdir()
    result = _classify_text(
        given,
        '{"direction": "in", "address": "95555", "body": "hi", "label": "MINE", "reason": "x"}\n',
    )
    assert result.exit_code == 0
    assert result.stderr.splitlines()[0] == (
        f"warning: {given}: input fields label, reason replaced by the classifier's (rename them to keep them)"
    )
    assert json.loads(result.stdout)["label"] == "other"
    plain = tmp_path / "plain.jsonl"
    plain.write_text('{"direction": "in", "address": "95555", "body": "hi"}\n', encoding="utf-8")
    assert "warning" not in runner.invoke(app, ["classify", str(plain)]).stderr
    empty = tmp_path / "sub" / "empty.csv"
    empty.write_text("", encoding="utf-8")
    none = runner.invoke(app, ["classify", str(empty)])
    assert (none.exit_code, none.stdout, none.stderr) == (0, "", "0 messages classified\n")


@pytest.mark.parametrize(
    "args",
    [
        ["report", "--db"],
        ["imports", "--region"],
        ["report", "sample_data/android-sms-backup.xml", "--db"],
        ["report", "--db", "--", "x"],
    ],
)
def test_cli_global_option_without_its_value_after_the_command(args: list[str]) -> None:
    result = runner.invoke(app, args)
    option = next(a for a in args if a in ("--db", "--region"))
    assert (result.exit_code, result.stderr) == (2, f"error: option {option} requires an argument\n")


@pytest.mark.parametrize("value", ["0", "-5", "abc"])
def test_cli_safety_limits_must_be_above_zero(value: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMS_AUDIT_MAX_BODY_BYTES", value)
    result = runner.invoke(app, ["report", str(SAMPLE), "--format", "json"])
    assert result.exit_code == 2
    assert result.stderr.endswith(
        f"error: SMS_AUDIT_MAX_BODY_BYTES must be a whole number above 0, not {value!r}\n"
    )
    assert result.stdout == ""


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full (Linux)")
@pytest.mark.parametrize(
    "args",
    [
        ["-q", "report", str(SAMPLE), "--format", "json"],
        ["-q", "report", str(SAMPLE), "--format", "table"],
        ["-q", "messages", str(SAMPLE), "--format", "jsonl"],
    ],
)
def test_cli_a_full_disk_is_one_line_and_exit_3_not_a_bug(args: list[str]) -> None:
    with open("/dev/full", "w", encoding="utf-8") as full:
        result = subprocess.run(
            [sys.executable, "-m", "sms_audit", *args],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            cwd=REPO,
            check=False,
        )
    assert result.returncode == 3
    assert result.stderr == (
        "error: cannot write: No space left on device\nhint: free some space, or write elsewhere with -o FILE\n"
    )
    written = _run("-q", "report", str(SAMPLE), "--format", "json", "-o", "/dev/full")
    assert (
        written.returncode == 3 and written.stderr.startswith("error: ") and "internal" not in written.stderr
    )


@pytest.mark.parametrize(
    ("where", "source"),
    [("option", ""), ("env", " (from $SMS_AUDIT_REGION)"), ("config", " (from {dir}/config.toml)")],
)
def test_cli_a_bad_region_says_where_it_came_from(
    where: str, source: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    args = ["messages", str(SAMPLE)]
    if where == "option":
        args = ["--region", "ZZ", *args]
    elif where == "env":
        monkeypatch.setenv("SMS_AUDIT_REGION", "ZZ")
    else:
        (tmp_path / "config.toml").write_text('region = "ZZ"\n', encoding="utf-8")
        monkeypatch.setenv("SMS_AUDIT_CONFIG_DIR", str(tmp_path))
    result = runner.invoke(app, args)
    source = source.format(dir=tmp_path)
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == (
        f"error: unknown region 'ZZ'{source}\nhint: use an ISO 3166 code such as CN, US or GB (e.g. --region CN)\n"
    )


def test_cli_classify_warns_per_message_about_directions_and_missing_senders(tmp_path: Path) -> None:
    """The header having the fields says nothing about each message: odd directions and messages
    without any sender are counted and named, and still classified."""
    given = tmp_path / "mixed.jsonl"
    result = _classify_text(
        given,
        '{"direction": "sideways", "address": "95555", "body": "hi"}\n'
        '{"direction": " IN ", "body": "no sender"}\n'
        '{"direction": "out", "sender": "106900", "body": "TD"}\n'
        '{"address": "95556", "body": "no direction"}\n',
    )
    assert result.exit_code == 0 and len(result.stdout.splitlines()) == 4
    assert result.stderr.splitlines() == [
        (
            f"warning: {given}: 2 messages with a direction other than in, out, draft, failed, other "
            "(never read as an unsubscribe)"
        ),
        f"warning: {given}: 1 message without a sender or address (no opt-out can be told)",
        "4 messages classified",
    ]
    clean = tmp_path / "clean.csv"
    clean.write_text("direction,address,body\nin,95555,hi\nout,106900,TD\n", encoding="utf-8")
    assert runner.invoke(app, ["classify", str(clean)]).stderr == "2 messages classified\n"


_LEGACY_CSV = (
    "direction,address,body\n"
    "in,10690000,【优选商城】双十一大促，全场五折起，点击链接领取优惠券，回TD退订\n"
    "in,95555,【招商银行】您尾号1234的信用卡本期账单已出，应还金额1024.00元\n"
    "in,10690002,您的验证码是385912，5分钟内有效，请勿泄露\n"
    "out,10690000,TD\n"
)


@pytest.mark.parametrize(
    ("codec", "said"),
    [
        ("gbk", "read as gb18030 (detected)"),
        ("utf-16", "read as utf-16-le (byte-order mark)"),
        ("utf-8-sig", None),
    ],
)
def test_cli_classify_reads_the_encodings_import_reads(tmp_path: Path, codec: str, said: str | None) -> None:
    """A GBK export from a Chinese phone, a UTF-16 file from PowerShell, UTF-8 with a BOM: the same
    labels as from UTF-8, the encoding said on stderr when it is not UTF-8, from a file and stdin."""
    given = tmp_path / "export.csv"
    given.write_bytes(_LEGACY_CSV.encode(codec))
    expected = ["marketing", "other", "verification", "unsubscribe-reply"]
    for args, stdin in (([str(given)], None), (["-"], given.read_bytes())):
        result = runner.invoke(app, ["classify", *args, "--format", "jsonl"], input=stdin)
        assert result.exit_code == 0, result.stderr
        rows = [json.loads(line) for line in result.stdout.splitlines()]
        assert [r["label"] for r in rows] == expected
        assert rows[1]["body"] == "【招商银行】您尾号1234的信用卡本期账单已出，应还金额1024.00元"
        name = str(given) if args[0] != "-" else "<stdin>"
        assert result.stderr.splitlines() == ([f"{name}: {said}"] if said else []) + ["4 messages classified"]


def test_cli_classify_counts_bytes_that_do_not_decode(tmp_path: Path) -> None:
    # UTF-8 throughout the first 256 KiB, then one stray byte: the message is kept, the loss said
    padding = "".join(f"in,95555,hello {i}\n" for i in range(20_000))
    given = tmp_path / "late.csv"
    given.write_bytes(("direction,address,body\n" + padding).encode() + b"in,95555,caf\xe9 TD\n")
    result = runner.invoke(app, ["classify", str(given), "--format", "csv"])
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines()[-1].startswith("in,95555,caf\ufffd TD,")
    assert result.stderr.splitlines() == [
        f"warning: {given}: 1 character could not be decoded as utf-8 and became U+FFFD",
        "20001 messages classified",
    ]


@pytest.mark.parametrize(
    ("text", "error"),
    [
        (
            'direction,address,body\nin,1069,"never closed\nin,1069,next\nin,1069,last\n',
            "line 2: a quoted field that starts here is never closed",
        ),
        ('direction,address,body\nin,1069,"closed"x\n', "line 2: ',' expected after '\"'"),
        (
            'direction,address,body\nin,1069,ok\nin,1069,"opens on line 3\n'
            + "".join(f"in,1069,row {i}\n" for i in range(1000)),
            "line 3: a quoted field that starts here is never closed",
        ),
        ('direction,address,"body\nin,1069,x\n', "line 1: a quoted field that starts here is never closed"),
        (
            'direction,address,body\nin,1069,ok\n"in,1069,open at the end\n',
            "line 3: a quoted field that starts here is never closed",
        ),
    ],
)
def test_cli_classify_refuses_broken_csv_quotes(tmp_path: Path, text: str, error: str) -> None:
    """A quote left open swallowed every later line into one body: refused, nothing written."""
    given = tmp_path / "broken.csv"
    result = _classify_text(given, text)
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr.splitlines()[0] == f"error: {given}: {error}"


def test_cli_classify_accepts_quotes_inside_fields(tmp_path: Path) -> None:
    given = tmp_path / "quotes.csv"
    result = _classify_text(
        given,
        'direction,address,body\nin,1069,"a, b"\nin,1069,say "hi" now\nin,1069,"two\nlines ""quoted"""\n',
        "--format",
        "jsonl",
    )
    assert result.exit_code == 0, result.stderr
    assert [json.loads(line)["body"] for line in result.stdout.splitlines()] == [
        "a, b",
        'say "hi" now',
        'two\nlines "quoted"',
    ]


def test_cli_classify_warns_about_messages_without_a_body(tmp_path: Path) -> None:
    """An empty body is a real message (a picture message); an absent or null one is not told apart
    from it by the labels, so it is counted and said — and still classified, in order."""
    given = tmp_path / "nobody.jsonl"
    result = _classify_text(
        given,
        '{"direction": "in", "address": "1069", "body": "hi"}\n'
        '{"direction": "in", "address": "1069"}\n'
        '{"direction": "in", "address": "1069", "body": null}\n'
        '{"direction": "in", "address": "1069", "body": ""}\n',
    )
    assert result.exit_code == 0 and len(result.stdout.splitlines()) == 4
    assert result.stderr.splitlines() == [
        f"warning: {given}: 2 messages without a body (classified as an empty text)",
        "4 messages classified",
    ]
    assert "body" not in json.loads(result.stdout.splitlines()[1])  # given as it was


def test_cli_classify_warns_about_unreadable_timestamps(tmp_path: Path) -> None:
    """Times order each sender's messages (a reply after the prompt that asked for it); a message
    whose time cannot be read puts its own sender in input order, and is counted in a warning."""
    given = tmp_path / "times.jsonl"
    result = _classify_text(
        given,
        '{"direction": "out", "sender": "13800138000", "body": "T", "timestamp": 1740909600000}\n'
        '{"direction": "in", "sender": "+8613800138000", "body": "【好又多】周末全场五折 回T退订", '
        '"timestamp": "1740823200000"}\n'
        '{"direction": "in", "sender": "95555", "body": "hello", "timestamp": "yesterday"}\n'
        '{"direction": "in", "sender": "95555", "body": "again"}\n',
    )
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout.splitlines()[0])["label"] == "unsubscribe-reply"
    assert result.stderr.splitlines() == [
        (
            f"warning: {given}: 2 messages without a readable timestamp (ISO 8601 or Unix s/ms): "
            "their senders' messages are taken in input order"
        ),
        "4 messages classified",
    ]


@pytest.mark.parametrize(
    ("text", "name", "error"),
    [
        (
            '[{"direction": "in", "address": "1", "body": "x"}]\n',
            "arr.txt",
            "this is a JSON array, not JSON Lines",
        ),
        (
            '[{"direction": "in", "address": "1", "body": "x"}]\n',
            "arr.json",
            "line 1: expected a JSON object, found an array",
        ),
        (
            '{\n  "schema_version": 1,\n  "messages": []\n}\n',
            "doc.jsonl",
            (
                "line 1: not valid JSON (Expecting property name enclosed in double quotes); "
                "this looks like an indented JSON document, not JSON Lines"
            ),
        ),
    ],
)
def test_cli_classify_says_when_json_is_a_document_not_lines(
    tmp_path: Path, text: str, name: str, error: str
) -> None:
    given = tmp_path / name
    result = _classify_text(given, text)
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr.splitlines() == [
        f"error: {given}: {error}",
        (
            "hint: give one JSON object per line: sms-audit messages --format jsonl, or jq -c '.[]' FILE "
            "(jq -c '.messages[]' for a --format json document)"
        ),
    ]


@pytest.mark.parametrize(
    ("name", "text", "why"),
    [
        (
            "cap.csv",
            "Direction,Sender,Body\nin,1069,hi\n",
            "field names are lower case ('Direction', 'Sender', 'Body' are not read)",
        ),
        (
            "cap.jsonl",
            '{"direction": "in", "Sender": "1", "body": "x"}\n',
            "field names are lower case ('Sender' is not read)",
        ),
        (
            "semi.csv",
            "direction;sender;body\nin;1069;hi\n",
            "the header is one field: its names are separated by semicolons, not commas",
        ),
    ],
)
def test_cli_classify_says_why_fields_look_missing(tmp_path: Path, name: str, text: str, why: str) -> None:
    given = tmp_path / name
    result = _classify_text(given, text)
    assert (result.exit_code, result.stdout) == (2, "")
    hint = result.stderr.splitlines()[1]
    assert hint == f"hint: each message needs direction (in/out), sender or address, and body; {why}"


@pytest.mark.parametrize(
    ("given", "args", "stdout"),
    [
        (b"", ["-"], ""),
        (b"\n\n", ["-", "--input-format", "jsonl"], ""),
        (b"", ["-", "--format", "csv"], ",".join(CLASSIFY_COLUMNS) + "\n"),
        (
            b"direction,address,body\n",
            ["-", "--format", "csv"],
            "direction,address,body," + ",".join(CLASSIFY_COLUMNS) + "\n",
        ),
    ],
)
def test_cli_classify_empty_input_is_zero_messages(given: bytes, args: list[str], stdout: str) -> None:
    """A filter upstream that matched nothing is no error: zero messages, exit 0."""
    result = runner.invoke(app, ["classify", *args], input=given)
    assert (result.exit_code, result.stdout, result.stderr) == (0, stdout, "0 messages classified\n")


def test_cli_classify_encoding_option_overrides_detection(tmp_path: Path) -> None:
    """Detection reads the first 256 KiB: a GBK export whose Chinese text comes later is read as
    UTF-8 (the loss counted); --encoding names the right one, for a file and for stdin."""
    head = "direction,address,body\n" + "".join(f"in,95555,hello {i}\n" for i in range(30_000))
    given = tmp_path / "late.csv"
    given.write_bytes(head.encode() + "in,10690000,【店】大促 回T退订\nout,10690000,退订\n".encode("gbk"))
    detected = runner.invoke(app, ["classify", str(given), "--format", "csv"])
    assert detected.exit_code == 0 and "could not be decoded as utf-8" in detected.stderr
    for args, stdin in (([str(given)], None), (["-"], given.read_bytes())):
        result = runner.invoke(app, ["classify", *args, "--encoding", "GBK", "--format", "csv"], input=stdin)
        assert result.exit_code == 0, result.stderr
        last = result.stdout.splitlines()[-2:]
        assert last[0].startswith("in,10690000,【店】大促 回T退订,marketing,")
        assert last[1].startswith("out,10690000,退订,unsubscribe-reply,")
        name = str(given) if args[0] != "-" else "<stdin>"
        assert result.stderr.splitlines() == [f"{name}: read as gb18030 (given)", "30002 messages classified"]
    bad = runner.invoke(app, ["classify", str(given), "--encoding", "klingon"])
    assert (bad.exit_code, bad.stdout) == (2, "")
    assert bad.stderr == (
        "error: unknown text encoding 'klingon'\nhint: e.g. utf-8, gbk, gb18030, big5, shift_jis, utf-16\n"
    )


@pytest.mark.parametrize(
    ("zone", "since", "until", "bodies"),
    [
        # 00:30 on 1 May in Shanghai is 16:30 UTC on 30 April: the Shanghai user's 1 May holds it
        ("Asia/Shanghai", "2024-05-01", "2024-05-02", ["just after midnight", "late evening"]),
        ("UTC", "2024-05-01", "2024-05-02", ["late evening", "next day in Shanghai"]),
        ("America/New_York", "2024-05-01T12:00", None, ["next day in Shanghai"]),  # 16:00 UTC
        # an offset or a Z says the zone itself; a duration is a time ago
        ("Asia/Shanghai", "2024-04-30T16:30:00Z", "2024-04-30T17:00:00+00:00", ["just after midnight"]),
    ],
)
def test_cli_since_until_without_an_offset_are_on_the_shown_clock(
    tmp_path: Path, zone: str, since: str, until: str | None, bodies: list[str]
) -> None:
    path = tmp_path / "b.xml"
    path.write_text(
        document(
            sms("+8613800138000", 1714494600000, "just after midnight"),  # 2024-04-30T16:30Z
            sms("+8613800138000", 1714571400000, "late evening"),  # 2024-05-01T13:50Z
            sms("+8613800138000", 1714580400000, "next day in Shanghai"),  # 2024-05-01T16:20Z
        ),
        encoding="utf-8",
    )
    args = ["messages", str(path), "--timezone", zone, "--since", since, "--format", "jsonl"]
    result = runner.invoke(app, args + (["--until", until] if until else []))
    assert result.exit_code == 0, result.stderr
    assert [r["body"] for r in _jsonl(result.stdout)] == bodies


def test_a_file_name_that_is_not_utf8_is_imported_and_shown_byte_for_byte(tmp_path: Path) -> None:
    """A GBK name unpacked by unzip (bytes that are not UTF-8) is read, stored and shown as \\xNN."""
    gbk = tmp_path / os.fsdecode("短信".encode("gbk") + b".xml")  # b6 cc d0 c5: no UTF-8 in it
    gbk.write_bytes(SAMPLE.read_bytes())
    shown = str(tmp_path) + "/\\xb6\\xcc\\xd0\\xc5.xml"
    db = str(tmp_path / "s.sqlite")
    result = runner.invoke(app, ["--db", db, "import", str(gbk)])
    assert result.exit_code == 0, result.stderr
    assert result.stderr.splitlines()[0].startswith(f"{shown}: SMS Backup & Restore XML")
    (row,) = _jsonl(runner.invoke(app, ["--db", db, "imports", "--format", "jsonl"]).stdout)
    assert (row["path"], row["new"]) == (shown, 189)
    listed = _jsonl(runner.invoke(app, ["messages", str(gbk), "--limit", "1"]).stdout)
    assert listed[0]["source_file"] == shown
    again = runner.invoke(app, ["--db", db, "import", str(gbk)])  # the same file again: nothing new
    assert again.exit_code == 0, again.stderr
    assert "new 0, already present 189" in again.stderr
