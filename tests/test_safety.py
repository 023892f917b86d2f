"""Nothing breaks, nothing leaks, nothing is lost: the fuzz-found inputs, concurrent runs, crash
safety, safe outputs and privacy (README "Safety")."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from sms_audit.cli import app
from tests.conftest import REPO, SAMPLE_DATA, sample_path
from tests.fixtures_sbr import document, sms

runner = CliRunner()
SAMPLE = SAMPLE_DATA / "android-sms-backup.xml"


def _jsonl(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines()]


# --- the fuzz-found inputs (../shared/samples/fuzz-crashes/README.md) ------------------------------

# file, exit code, messages listed, a line stderr must hold
FUZZ_CASES = [
    ("01-sbr-date-huge.xml", 0, 0, "skipped 1 record: date outside 1990–2100 in every unit"),
    ("03-sbr-mms-datesent-huge.xml", 0, 1, ""),
    ("04-sbr-xmlns-zero-records.xml", 0, 1, ""),
    ("10-smsie-date-huge.zip", 0, 0, "skipped 1 record: date outside 1990–2100 in every unit"),
    ("11-smsie-deep-nesting.zip", 0, 0, "skipped 1 record: JSON nested too deeply"),
    ("12-smsie-lone-surrogate.zip", 0, 1, ""),
    ("13-smsie-method99.zip", 3, 0, "the backup inside the zip (messages.ndjson) is encrypted"),
    ("14-smsie-bad-deflate.zip", 3, 0, "damaged ZIP member messages.ndjson"),
    ("60-crash-smsie-bytes-0ea01a48-c11-1-149.zip", 3, 0, "damaged ZIP member messages.ndjson"),
    ("20-tel-recipients-number", 0, 0, "skipped 1 record: 'recipients' is not a list"),
    ("21-tel-mms-addresses-number", 0, 0, "skipped 1 record: 'mms_addresses' is not a list"),
    ("30-mmssms-part-mid-null.db", 0, 4, "skipped 1 record: MMS without an _id"),
    ("31-mmssms-date-huge.db", 0, 2, "skipped 3 records: date outside 1990–2100 in every unit"),
    ("50-iosbak-bad-info-plist", 0, 8, "Info.plist is unreadable (mismatched tag: line 1, column 67)"),
    ("60-crash-iosdb-page-129e9907-c11-0-48.db", 3, 0, "corrupt SQLite database: its schema cannot be read"),
    (
        "60-crash-mmssms-page-40e6a728-c11-0-1571.db",
        3,
        0,
        "corrupt SQLite database: its schema cannot be read",
    ),
    (
        "60-crash-iosdb-page-3dcf5e55-c11-0-3675.db",
        3,
        0,
        "then the database failed (database disk image is malformed)",
    ),
    ("70-sbr-zip-200MB-attribute-bomb.zip", 3, 0, "refusing a possible ZIP bomb: sms-1.xml inflates"),
    ("71-smsie-200MB-line-bomb.zip", 3, 0, "refusing a possible ZIP bomb: messages.ndjson inflates"),
    ("81-xxe-accepted.xml", 3, 0, "the XML declares entities in a DTD; SB&R backups never do"),
]


@pytest.mark.parametrize(("name", "code", "count", "line"), FUZZ_CASES, ids=[c[0] for c in FUZZ_CASES])
def test_fuzz_found_input(name: str, code: int, count: int, line: str) -> None:
    path = sample_path("fuzz-crashes", name)
    result = runner.invoke(app, ["messages", str(path), "--format", "jsonl"])
    assert (result.exit_code, len(_jsonl(result.stdout))) == (code, count), result.stderr
    assert line in result.stderr
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    if code == 3:
        assert any(x.startswith(f"error: {path}: ") for x in result.stderr.splitlines())


def test_fuzz_bad_archive_never_costs_the_others() -> None:
    bad = [sample_path("fuzz-crashes", n) for n, code, *_ in FUZZ_CASES if code == 3]
    result = runner.invoke(app, ["messages", *map(str, bad), str(SAMPLE), "--format", "jsonl"])
    assert result.exit_code == 3
    assert len(_jsonl(result.stdout)) == 189
    assert sum(line.startswith("error: ") for line in result.stderr.splitlines()) == len(bad)


def test_lone_surrogate_becomes_a_replacement_character_and_is_stored(tmp_path: Path) -> None:
    path = sample_path("fuzz-crashes", "12-smsie-lone-surrogate.zip")
    db = tmp_path / "s.sqlite"
    assert runner.invoke(app, ["--db", str(db), "-q", "import", str(path)]).exit_code == 0
    (row,) = _jsonl(runner.invoke(app, ["--db", str(db), "messages"]).stdout)
    assert "\ufffd" in row["body"]


def test_attribute_bomb_with_a_raised_limit_is_cut_in_bounded_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    """With the ratio limit lifted, the 200 MB attribute is cut at the body limit and marked."""
    monkeypatch.setenv("SMS_AUDIT_MAX_INFLATE_RATIO", "100000")
    path = sample_path("fuzz-crashes", "70-sbr-zip-200MB-attribute-bomb.zip")
    code = (
        f"import re, sms_audit; m = sms_audit.read_archives([{str(path)!r}]);"
        "print(len(m), max(len(b) for b in m.frame['body']), m.archives[0].warnings,"
        " re.search(r'VmHWM:\\s*(\\d+)', open('/proc/self/status').read()).group(1))"
    )
    # The peak of this process's own memory (VmHWM), not ru_maxrss: Linux carries ru_maxrss over
    # fork and exec, so a child of a grown pytest process would report pytest's size. A hermetic
    # environment: no variable another test set (or the caller's shell) changes the limits.
    keep = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT")
    env = {k: v for k, v in os.environ.items() if k in keep} | {"SMS_AUDIT_MAX_INFLATE_RATIO": "100000"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    count, longest, _ = out.stdout.split(" ", 2)
    peak_kb = int(out.stdout.rsplit(" ", 1)[1])
    assert int(count) == 1 and int(longest) < 1_100_000
    assert "were cut and marked" in out.stdout
    assert peak_kb < 400 * 1024, f"peak RSS {peak_kb} KiB"


# --- outputs are safe -------------------------------------------------------------------------------


def test_csv_quotes_a_bare_carriage_return(tmp_path: Path) -> None:
    path = tmp_path / "sms.xml"
    path.write_text(document(sms("95555", 1700000000000, "", raw_body="line one&#13;spoofed,line")))
    result = runner.invoke(app, ["messages", str(path), "--format", "csv"])
    import csv
    import io

    rows = list(csv.reader(io.StringIO(result.stdout, newline="")))
    assert len(rows) == 2 and rows[1][8] == "line one\rspoofed,line"
    assert '"line one\rspoofed,line"' in result.stdout


def test_json_to_a_terminal_escapes_c1_and_bidi(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    path = tmp_path / "sms.xml"
    path.write_text(document(sms("95555", 1700000000000, "pay \u202egnp.exe \u009b31m now")))
    piped = _jsonl(runner.invoke(app, ["messages", str(path), "--format", "jsonl"]).stdout)[0]
    assert piped["body"] == "pay \u202egnp.exe \u009b31m now"  # faithful to a pipe or file
    monkeypatch.setattr("sms_audit.output.stdout_is_tty", lambda: True)
    shown = runner.invoke(app, ["messages", str(path), "--format", "jsonl"]).stdout
    assert "\u202e" not in shown and "\u009b" not in shown
    assert "\\u202e" in shown and "\\u009b" in shown
    assert json.loads(shown.splitlines()[0])["body"] == piped["body"]  # still valid, same meaning


@pytest.mark.parametrize("name", ["evil\nerror: forged line.xml", "evil\x1b[2J.xml", "a\u202egnp.xml"])
def test_file_names_are_escaped_on_stderr(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_text("not an archive")
    result = runner.invoke(app, ["messages", str(path)])
    assert result.exit_code == 3
    lines = result.stderr.splitlines()
    assert lines[0].startswith("error: ") and len([x for x in lines if x.startswith("error:")]) == 1
    assert "\x1b" not in result.stderr and "\u202e" not in result.stderr


def test_output_to_devices_fifos_and_symlinks_is_written_through(tmp_path: Path) -> None:
    real = tmp_path / "real.jsonl"
    real.write_text("")
    link = tmp_path / "link.jsonl"
    link.symlink_to(real)
    assert runner.invoke(app, ["messages", str(SAMPLE), "--limit", "2", "-o", str(link)]).exit_code == 0
    assert link.is_symlink() and len(real.read_text().splitlines()) == 2
    assert runner.invoke(app, ["messages", str(SAMPLE), "-o", os.devnull]).exit_code == 0
    assert stat.S_ISCHR(os.stat(os.devnull).st_mode)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    reader = subprocess.Popen(["cat", str(fifo)], stdout=subprocess.PIPE)
    assert runner.invoke(app, ["messages", str(SAMPLE), "--limit", "3", "-o", str(fifo)]).exit_code == 0
    assert len(reader.communicate(timeout=20)[0].splitlines()) == 3
    assert stat.S_ISFIFO(fifo.stat().st_mode)
    folder = runner.invoke(app, ["messages", str(SAMPLE), "-o", str(tmp_path)])
    assert folder.exit_code == 2 and folder.stderr.startswith(f"error: {tmp_path}: is a directory")


@pytest.mark.parametrize("target", ["", " ", "【】", "【 】", "[]"])
def test_evidence_empty_target_is_a_usage_error(tmp_path: Path, target: str) -> None:
    result = runner.invoke(app, ["evidence", target, str(SAMPLE), "-o", str(tmp_path / "pack")])
    assert result.exit_code == 2
    assert "names no brand or number" in result.stderr
    assert not (tmp_path / "pack").exists()


def test_evidence_never_follows_a_planted_symlink_nor_overwrites(tmp_path: Path) -> None:
    pack = tmp_path / "pack"
    pack.mkdir()
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    (pack / "summary.md").symlink_to(victim)
    result = runner.invoke(app, ["evidence", "优选商城", str(SAMPLE), "-o", str(pack)])
    assert result.exit_code == 2 and "summary.md already exists" in result.stderr
    assert victim.read_text() == "keep me"
    fresh = tmp_path / "fresh"
    assert runner.invoke(app, ["evidence", "优选商城", str(SAMPLE), "-o", str(fresh)]).exit_code == 0
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o700
    assert {stat.S_IMODE(p.stat().st_mode) for p in fresh.rglob("*") if p.is_file()} == {0o600}
    again = runner.invoke(app, ["evidence", "优选商城", str(SAMPLE), "-o", str(fresh)])
    assert again.exit_code == 2 and "already exists" in again.stderr


def test_evidence_summary_escapes_archive_names(tmp_path: Path) -> None:
    name = "sms `x`\n# forged heading <script>.xml"
    path = tmp_path / name
    path.write_bytes(SAMPLE.read_bytes())
    pack = tmp_path / "pack"
    assert runner.invoke(app, ["evidence", "优选商城", str(path), "-o", str(pack)]).exit_code == 0
    summary = (pack / "summary.md").read_text(encoding="utf-8")
    assert "\n# forged heading" not in summary and "<script>" not in summary


# --- privacy -----------------------------------------------------------------------------------------


def test_no_socket_is_opened_from_import_to_evidence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("sms-audit opened a socket")

    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    db = tmp_path / "s.sqlite"
    assert runner.invoke(app, ["--db", str(db), "-q", "import", str(SAMPLE)]).exit_code == 0
    for fmt in ("json", "md", "table", "csv"):
        assert runner.invoke(app, ["--db", str(db), "report", "--format", fmt]).exit_code == 0
    assert (
        runner.invoke(app, ["--db", str(db), "evidence", "优选商城", "-o", str(tmp_path / "p")]).exit_code
        == 0
    )


@pytest.mark.parametrize("fmt", ["json", "jsonl", "csv", "md", "table"])
def test_redact_masks_every_personal_number_trap_sender_included(fmt: str) -> None:
    import re

    from sms_audit.pipeline import read_archives

    personal = set(
        read_archives([SAMPLE]).frame.query("sender_kind == 'mobile'")["address"].str.removeprefix("+86")
    )
    assert "13900004321" in personal  # the trap sender
    out = runner.invoke(app, ["report", str(SAMPLE), "--redact", "--details", "--format", fmt]).stdout
    digits = set(re.findall(r"1[3-9][0-9]{9}", out))
    assert not (digits & personal)


# --- concurrency and crash safety -------------------------------------------------------------------


BIG = 150_000  # messages: an import that takes seconds, long enough to be interrupted while writing


def _big_backup(path: Path, n: int) -> Path:
    rows = [
        sms(f"10690{i % 500:08d}", 1700000000000 + i * 1000, f"【店{i % 500}】优惠{i} 回T退订")
        for i in range(n)
    ]
    path.write_text(document(*rows), encoding="utf-8")
    return path


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SMS_AUDIT_")}
    # As from a terminal: a suite started in the background (`pytest &`) runs with SIGINT ignored,
    # which a child inherits and Python then leaves ignored (Ctrl-C would not reach it). A handler
    # is not inherited across exec (the child starts with SIGINT at its default), an ignore is.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        return subprocess.Popen(
            [sys.executable, "-m", "sms_audit", *args],
            cwd=REPO,
            env={**clean, **(env or {})},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
    finally:
        signal.signal(signal.SIGINT, previous)


@pytest.fixture(scope="module")
def big_backup(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _big_backup(tmp_path_factory.mktemp("big") / "sms-big.xml", BIG)


def _wait_for_import_to_start(db: Path, proc: subprocess.Popen[str]) -> None:
    """Until ``proc`` writes to the store's WAL (written after ``proc`` started: a WAL an earlier
    process left behind must not count, or the signal would reach ``proc`` while it starts up)."""
    started = time.time_ns()  # proc, just launched, writes only after its ~0.2 s start-up
    deadline = time.monotonic() + 60
    wal = Path(f"{db}-wal")
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(proc.stderr.read() if proc.stderr else "import ended early")
        try:
            written = wal.stat()
        except FileNotFoundError:
            written = None
        if written is not None and written.st_size > 0 and written.st_mtime_ns >= started:
            return
        time.sleep(0.05)
    raise AssertionError("the import did not start writing")


def test_second_import_waits_and_readers_see_the_last_commit(tmp_path: Path) -> None:
    """Another writer holds the store (as a running import does): a reader sees the last commit at
    once, an impatient import says so in one line (exit 3), a patient one waits and then runs."""
    db = tmp_path / "s.sqlite"
    assert runner.invoke(app, ["--db", str(db), "-q", "import", str(SAMPLE)]).exit_code == 0
    other = tmp_path / "other.xml"
    other.write_text(document(sms("95555", 1764600000000, "later")), encoding="utf-8")
    writer = sqlite3.connect(db, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("INSERT INTO meta(key, value) VALUES ('holding', 'the write lock')")
    try:
        report = _cli("--db", str(db), "report", "--format", "json")
        out, err = report.communicate(timeout=120)
        assert report.returncode == 0, err
        assert json.loads(out)["messages_checked"] == 187  # the committed state
        impatient = _cli("--db", str(db), "-q", "import", str(other), env={"SMS_AUDIT_LOCK_TIMEOUT": "0.5"})
        _, err = impatient.communicate(timeout=120)
        assert impatient.returncode == 3
        assert err.startswith(f"error: {db}: another import is running on this store (waited 0 s)")
        patient = _cli("--db", str(db), "-q", "import", str(other))
        time.sleep(1.5)
        assert patient.poll() is None  # still waiting for the lock
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    assert patient.wait(timeout=120) == 0
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM messages").fetchone()[0] == 190
        assert conn.execute("SELECT count(*) FROM imports").fetchone()[0] == 2


@pytest.mark.parametrize("delay", [0.4, 1.5])
def test_kill_9_during_import_never_corrupts_and_the_rerun_is_exact(
    tmp_path: Path, big_backup: Path, delay: float
) -> None:
    db = tmp_path / "s.sqlite"
    proc = _cli("--db", str(db), "-q", "import", str(SAMPLE), str(big_backup))
    time.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    if db.exists():
        with sqlite3.connect(db) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            count = conn.execute("SELECT count(*) FROM messages").fetchone()[0]
            assert count in (0, 189, 189 + BIG)  # whole archives only
    rerun = _cli("--db", str(db), "-q", "import", str(SAMPLE), str(big_backup))
    assert rerun.wait(timeout=300) == 0
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM messages").fetchone()[0] == 189 + BIG
        assert conn.execute("SELECT count(*) FROM imports WHERE status = 'running'").fetchone()[0] == 0


def _parser_children() -> set[int]:
    """Processes running the parser child (``python -P -m sms_audit.importers._parse_process``)."""
    found = set()
    for entry in Path("/proc").iterdir():
        try:
            if (
                entry.name.isdigit()
                and b"sms_audit.importers._parse_process" in (entry / "cmdline").read_bytes()
            ) and "State:\tZ" not in (entry / "status").read_text():
                found.add(int(entry.name))
        except OSError:
            continue
    return found


@pytest.mark.parametrize(
    ("sig", "code", "said"),
    [
        (signal.SIGINT, 130, "interrupted"),
        (signal.SIGTERM, 143, "terminated"),
        (signal.SIGHUP, 129, "terminated"),
    ],
)
def test_ctrl_c_and_sigterm_leave_the_store_unchanged_and_nothing_behind(
    tmp_path: Path, big_backup: Path, sig: signal.Signals, code: int, said: str
) -> None:
    """Exit 130 (Ctrl-C) or 143 (SIGTERM, a scheduler's timeout), the import rolled back, the parser
    child gone, no temporary file left (the archive is large enough to be parsed in a child)."""
    assert big_backup.stat().st_size >= 4 * 1024 * 1024
    db = tmp_path / "s.sqlite"
    temp = tmp_path / "tmp"
    temp.mkdir()
    assert (
        subprocess.run(
            [sys.executable, "-m", "sms_audit", "--db", str(db), "-q", "import", str(SAMPLE)],
            cwd=REPO,
            check=False,
        ).returncode
        == 0
    )
    before = _parser_children()
    proc = _cli("--db", str(db), "-q", "import", str(big_backup), env={"TMPDIR": str(temp)})
    _wait_for_import_to_start(db, proc)
    children = _parser_children() - before
    assert children  # still parsing: the signal reaches the import while its child runs
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == code and err == f"{said}\n"
    deadline = time.monotonic() + 10
    while children & _parser_children() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not children & _parser_children()
    assert list(temp.iterdir()) == []
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM messages").fetchone()[0] == 189
        assert conn.execute("SELECT count(*) FROM imports").fetchone()[0] == 1


def test_report_csv_to_a_terminal_escapes_c1_and_bidi(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Every CSV writer escapes controls on a terminal (the report's did not): the finding's body."""
    path = tmp_path / "sms.xml"
    t0 = 1_700_000_000_000
    path.write_text(
        document(
            sms("1069012345", t0, "【优购】春季大促 回T退订"),
            sms("1069012345", t0 + 60_000, "T", type_=2),
            sms("1069012345", t0 + 5 * 86_400_000, "【优购】\u009b31m 新品 \u202egnp.exe 回T退订"),
        )
    )
    piped = runner.invoke(app, ["--region", "CN", "report", str(path), "--format", "csv"])
    assert piped.exit_code == 0 and "\u009b31m" in piped.stdout and "\u202e" in piped.stdout
    monkeypatch.setattr("sms_audit.output.stdout_is_tty", lambda: True)
    shown = runner.invoke(app, ["--region", "CN", "report", str(path), "--format", "csv"])
    assert shown.exit_code == 0, shown.stderr
    assert "\u009b" not in shown.stdout and "\u202e" not in shown.stdout
    assert "\\x9b31m" in shown.stdout and "\\u202e" in shown.stdout
