"""`sms-audit report` and `sms-audit evidence` end to end on the sample archive and small fixtures."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from sms_audit.cli import app
from tests.conftest import SAMPLE_DATA
from tests.fixtures_sbr import document, sms
from tests.report.test_render import SCHEMA, validate

SAMPLE = SAMPLE_DATA / "android-sms-backup.xml"
IPHONE_SAMPLE = SAMPLE_DATA / "iphone-sms.db"
runner = CliRunner()
SHOP = "优选"  # brand key the classifier gives 【优选商城】


def _json(args: list[str], **kwargs: Any) -> dict[str, Any]:
    result = runner.invoke(app, [*args, "--format", "json"], **kwargs)
    assert result.exit_code in (0, 1), result.stderr
    return json.loads(result.stdout)


def _summary(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {row["brand_display"] or row["subject"]: row for row in doc["summary"]}


@pytest.fixture(scope="module")
def sample_doc() -> dict[str, Any]:
    result = runner.invoke(app, ["report", str(SAMPLE), "--format", "json"])
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def test_cli_report_sample_schema_and_policy(sample_doc: dict[str, Any]) -> None:
    validate(sample_doc, SCHEMA)
    assert sample_doc["policy"]["name"] == "cn" and sample_doc["region"] == "CN"
    assert sample_doc["timezone"] == {"name": "Asia/Shanghai", "source": "main zone of region CN"}
    assert sample_doc["sources"] == [str(SAMPLE)] or sample_doc["sources"][0].endswith(
        "android-sms-backup.xml"
    )


def test_cli_report_sample_same_and_other_number_violations(sample_doc: dict[str, Any]) -> None:
    shop = [f for f in sample_doc["findings"] if f["subject"] == SHOP]
    assert [(f["kind"], f["via"], f["timestamp"]) for f in shop] == [
        ("within_grace", "same-number", "2025-09-10T18:15:00.000Z"),
        ("violation", "same-number", "2025-09-13T03:00:00.000Z"),
        ("violation", "same-number", "2025-09-20T04:05:00.000Z"),
        ("violation", "other-number", "2025-09-25T02:40:00.000Z"),
        ("non_marketing_after_unsubscribe", "other-number", "2025-10-03T12:23:00.000Z"),
        ("violation", "other-number", "2025-10-18T01:20:00.000Z"),
        ("non_marketing_after_unsubscribe", "other-number", "2025-11-01T12:34:00.000Z"),
        ("violation", "other-number", "2025-11-10T16:05:00.000Z"),
    ]
    assert {f["unsubscribed_at"] for f in shop} == {"2025-09-10T12:15:00.000Z"}
    assert {f["address"] for f in shop if f["via"] == "other-number" and f["kind"] == "violation"} == {
        "10690123456702",
        "106575550001",
    }
    row = _summary(sample_doc)["优选商城"]
    assert (
        row["status"],
        row["violations"],
        row["via_other_numbers"],
        row["within_grace"],
        row["confirmed"],
    ) == ("violated", 5, 3, 1, "no")
    assert row["keyword"] == "TD" and row["last_violation"] == "2025-11-10T16:05:00.000Z"
    assert sample_doc["summary"][0]["brand_display"] == "优选商城"  # worst first


def test_cli_report_sample_unconfirmed_resubscribed_non_marketing(sample_doc: dict[str, Any]) -> None:
    rows = _summary(sample_doc)
    assert (rows["乐动健身"]["keyword"], rows["乐动健身"]["confirmed"], rows["乐动健身"]["status"]) == (
        "R",
        "no",
        "honoured",
    )
    assert (
        rows["快达物流"]["status"],
        rows["快达物流"]["violations"],
        rows["快达物流"]["non_marketing"],
    ) == ("honoured", 0, 3)
    assert (rows["美味外卖"]["status"], rows["美味外卖"]["violations"]) == ("re-subscribed", 0)
    ledger = {e["brand_display"] or e["subject"]: e for e in sample_doc["ledger"]}
    assert ledger["美味外卖"]["resubscribed_at"] is not None
    unconfirmed = sorted(k for k, e in ledger.items() if not e["confirmed"])
    assert unconfirmed == sorted(["+8613900004321", "乐动健身", "优选商城", "快达物流", "美味外卖"])


def test_cli_report_sample_trap(sample_doc: dict[str, Any]) -> None:
    (trap,) = sample_doc["traps"]
    assert trap["address"] == "+8613900004321" and trap["replied"] is True
    assert (
        trap["timestamp"] == "2025-10-21T14:48:00.000Z" and trap["replied_at"] == "2025-10-21T14:55:00.000Z"
    )
    assert "do not reply" in trap["explanation"]
    assert _summary(sample_doc)["+8613900004321"]["status"] == "replied to trap"


def test_cli_report_sample_confirmation_then_silence(sample_doc: dict[str, Any]) -> None:
    row = _summary(sample_doc)["星巴客"]
    assert (row["confirmed"], row["status"], row["violations"]) == ("yes", "honoured", 0)


def test_cli_report_confirmation_then_silence_with_content_only_promotional(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The sample's 退订成功 has no advert: with a content-only ``is_promotional`` it is the allowed confirmation."""
    from sms_audit import classifier

    real = classifier.classify_frame

    def content_only(frame: Any, **kwargs: Any) -> Any:
        out = real(frame, **kwargs)
        out.loc[out["label"] == "unsubscribe-confirmation", "is_promotional"] = False
        return out

    monkeypatch.setattr(classifier, "classify_frame", content_only)
    doc = _json(["report", str(SAMPLE)])
    row = _summary(doc)["星巴客"]
    assert (row["confirmed"], row["status"], row["violations"]) == ("yes", "honoured", 0)
    (conf,) = [f for f in doc["findings"] if f["subject"] == "星巴客"]
    assert (conf["kind"], conf["timestamp"]) == ("confirmation", "2025-07-20T01:03:00.000Z")


def test_cli_report_says_how_many_group_messages_it_left_out(tmp_path: Path) -> None:
    """A "TD" sent to a group is no opt-out: the report leaves group conversations out and says so,
    read directly and from the store alike (a file of group messages only no longer says just
    "Checked 0 messages")."""
    from tests.fixtures_sbr import mms

    members = [("+8613912345678", 137), ("+8613812345678", 151), ("+8613700000000", 151)]
    groups = [
        mms(
            "+8613912345678~+8613812345678",
            1700000000000 + i * 1000,
            box,
            [("text/plain", text)],
            members,
            _id=str(7000 + i),
            tr_id=f"T{i}",
        )
        for i, (box, text) in enumerate([(1, "周末聚餐?"), (2, "TD"), (1, "哈哈")])
    ]
    only = tmp_path / "groups.xml"
    only.write_text(document(*groups), encoding="utf-8")
    line = "Checked 0 messages (times in Asia/Shanghai); 3 group messages not checked.\n"
    result = runner.invoke(app, ["report", str(only), "--region", "CN"])
    assert result.exit_code == 0 and line in result.stderr
    db = tmp_path / "s.sqlite"
    assert runner.invoke(app, ["--db", str(db), "-q", "import", str(only), "--region", "CN"]).exit_code == 0
    stored = runner.invoke(app, ["--db", str(db), "report", "--region", "CN"])
    assert line in stored.stderr
    doc = _json(["report", str(only), "--format", "json", "--region", "CN"])
    assert (doc["messages_checked"], doc["group_messages_not_checked"], doc["counts"]["unsubscribes"]) == (
        0,
        3,
        0,
    )
    sample = _json(["report", str(SAMPLE), "--format", "json"])
    assert (sample["messages_checked"], sample["group_messages_not_checked"]) == (187, 2)


def test_cli_report_default_jsonl_and_stderr_footer() -> None:
    result = runner.invoke(app, ["report", str(SAMPLE)])
    assert result.exit_code == 0
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(rows) == 13 and rows[-1]["kind"] == "trap"
    assert "policy cn (region CN)" in result.stderr and "Checked 187 messages" in result.stderr
    quiet = runner.invoke(app, ["-q", "report", str(SAMPLE)])
    assert quiet.stderr == ""


@pytest.mark.parametrize("fmt", ["md", "json", "csv"])
def test_cli_report_summary_on_stderr_for_every_file_format(tmp_path: Path, fmt: str) -> None:
    # a report written to a file or a pipe states its headline on stderr, whatever the format
    out = tmp_path / f"r.{fmt}"
    result = runner.invoke(app, ["report", str(SAMPLE), "--format", fmt, "-o", str(out)])
    assert result.exit_code == 0, result.stderr
    assert "Checked 187 messages" in result.stderr and "5 violating messages from 1 brand" in result.stderr
    assert "Checked 187" not in result.stdout and out.stat().st_size > 0


def test_cli_report_table_and_md(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "220")
    table = runner.invoke(app, ["report", str(SAMPLE), "--format", "table", "--details"])
    assert table.exit_code == 0
    assert (
        "【优选商城】" in table.stdout and "re-subscribed" in table.stdout and "within_grace" in table.stdout
    )
    # a table ends with a three-line footer; -v gives every note and caveat
    footer = table.stdout.rsplit("\n\n", 1)[1].splitlines()
    assert len(footer) == 3 and footer[-1].endswith(
        "Caveats and sources: -v. Weekly volume: ┊ is your first unsubscribe."
    )
    assert "Note:" not in table.stdout
    verbose = runner.invoke(app, ["-v", "report", str(SAMPLE), "--format", "table"])
    assert 'Note: "No violation found" does not mean "compliant"' in verbose.stdout
    assert "Scope: per 【signature】 brand" in verbose.stdout
    out = tmp_path / "report.md"
    md = runner.invoke(app, ["report", str(SAMPLE), "--format", "md", "-o", str(out)])
    assert md.exit_code == 0 and md.stdout == ""
    text = out.read_text(encoding="utf-8")
    assert text.startswith("# sms-audit report") and "## 【优选商城】: violated" in text
    assert "```text\n【优选商城】中秋礼盒热卖" in text
    assert (out.stat().st_mode & 0o777) == 0o600


def test_cli_report_options(tmp_path: Path) -> None:
    doc = _json(["report", str(SAMPLE), "--policy", "us", "--timezone", "UTC"])
    assert doc["policy"]["name"] == "us" and doc["policy"]["business_days"] == 10
    assert doc["timezone"] == {"name": "UTC", "source": "--timezone"}
    lenient = _json(["report", str(SAMPLE), "--grace", "72h"])
    assert lenient["policy"]["grace_seconds"] == 259200 and lenient["policy"]["overridden"] is True
    # 72 h: the message 62 h after the TD is now within grace too
    assert (_summary(lenient)["优选商城"]["within_grace"], _summary(lenient)["优选商城"]["violations"]) == (
        2,
        4,
    )
    for bad in (["--policy", "mars"], ["--grace", "soon"], ["--timezone", "Mars/Base"]):
        result = runner.invoke(app, ["report", str(SAMPLE), *bad])
        assert result.exit_code == 2 and result.stdout == "" and result.stderr.startswith("error: ")


def test_cli_report_check_exit_codes(tmp_path: Path) -> None:
    assert runner.invoke(app, ["report", str(SAMPLE), "--check"]).exit_code == 1
    assert runner.invoke(app, ["report", str(SAMPLE)]).exit_code == 0
    clean = tmp_path / "clean.xml"
    clean.write_text(
        document(
            sms("10690000222", 1746061200000, "【甜心蛋糕】新品上市，满100减20，拒收请回复R"),
            sms("10690000222", 1746064800000, "R", type_=2),
            sms("+8613800000001", 1746100000000, "晚上吃饭吗"),
        ),
        encoding="utf-8",
    )
    result = runner.invoke(app, ["report", str(clean), "--check", "--format", "json"])
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["counts"]["violations"] == 0
    # a broken archive keeps the data-error code even with violations found in the others
    broken = tmp_path / "broken.xml"
    broken.write_text("<smses count='1'><sms address='1' body='x'", encoding="utf-8")
    result = runner.invoke(app, ["report", str(SAMPLE), str(broken), "--check"])
    assert result.exit_code == 3


def test_cli_report_new_across_runs(tmp_path: Path) -> None:
    db = str(tmp_path / "store.sqlite")
    assert runner.invoke(app, ["--db", db, "import", str(SAMPLE)]).exit_code == 0
    first = runner.invoke(app, ["--db", db, "report", "--new", "--check", "--format", "jsonl"])
    assert first.exit_code == 1, first.stderr
    assert len(first.stdout.splitlines()) == 13
    second = runner.invoke(app, ["--db", db, "report", "--new", "--check", "--format", "jsonl"])
    assert second.exit_code == 0 and second.stdout == ""
    # a later backup brings one more violation: only that one is new
    extra = tmp_path / "later.xml"
    extra.write_text(
        document(sms("10690123456702", 1764600000000, "【优选商城】年终清仓，全场5折，拒收请回复R")),
        encoding="utf-8",
    )
    assert runner.invoke(app, ["--db", db, "import", str(extra)]).exit_code == 0
    third = runner.invoke(app, ["--db", db, "report", "--new", "--check", "--format", "json"])
    assert third.exit_code == 1
    doc = json.loads(third.stdout)
    validate(doc, SCHEMA)
    assert doc["new_only"] is True
    assert [(f["kind"], f["via"], f["timestamp"]) for f in doc["findings"]] == [
        ("violation", "other-number", "2025-12-01T14:40:00.000Z")
    ]
    assert [row["brand_display"] for row in doc["summary"]] == ["优选商城"]
    # the summary counts the archive's replies and confirmations, and the new violations (a fault
    # once: "0 were confirmed" because the ledger was cut to the brands with new findings)
    assert {
        k: doc["counts"][k] for k in ("unsubscribe_replies", "unsubscribes", "confirmed", "violations")
    } == {
        "unsubscribe_replies": 6,
        "unsubscribes": 6,
        "confirmed": 1,
        "violations": 1,
    }
    assert len(doc["ledger"]) == 6
    assert (
        "You sent 6 unsubscribe replies to 6 numbers; 1 was confirmed. 1 new violating message from 1 brand or sender"
        in " ".join(third.stderr.split())
    )
    fourth = runner.invoke(app, ["--db", db, "report", "--new", "--format", "table"])
    assert fourth.exit_code == 0
    assert "1 was confirmed. 0 new violating messages from 0 brands or senders" in " ".join(
        fourth.stdout.split()
    )
    # without --new everything is still reported
    full = runner.invoke(app, ["--db", db, "report", "--format", "jsonl"])
    assert len(full.stdout.splitlines()) == 14


def test_cli_report_new_needs_the_store(tmp_path: Path) -> None:
    result = runner.invoke(app, ["report", str(SAMPLE), "--new"])
    assert result.exit_code == 2 and "--new" in result.stderr
    missing = runner.invoke(app, ["--db", str(tmp_path / "none.sqlite"), "report", "--new"])
    assert missing.exit_code == 3 and "no message store" in missing.stderr


def test_cli_report_redact(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "220")
    for fmt in ("json", "jsonl", "csv", "md", "table"):
        result = runner.invoke(app, ["report", str(SAMPLE), "--redact", "--details", "--format", fmt])
        assert result.exit_code == 0
        for secret in ("13900004321", "3471", "8721"):  # the trap's mobile and verification codes
            assert secret not in result.stdout, (fmt, secret)
        assert "4321" in result.stdout
        assert "10690123456701" in result.stdout  # the merchant's port is evidence, not personal data


# --- evidence --------------------------------------------------------------------------------------


def test_cli_evidence_pack(tmp_path: Path) -> None:
    out = tmp_path / "pack"
    result = runner.invoke(app, ["evidence", "优选商城", str(SAMPLE), "-o", str(out)])
    assert result.exit_code == 0, result.stderr
    names = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
    assert names == [
        "complaints/10000999.txt",
        "complaints/10010.txt",
        "complaints/10086999.txt",
        "complaints/12321.txt",
        "complaints/7726.txt",
        "complaints/fcc.txt",
        "manifest.json",
        "report.html",
        "sources.csv",
        "summary.md",
        "timeline.csv",
    ]
    timeline = list(csv.DictReader(io.StringIO((out / "timeline.csv").read_text(encoding="utf-8"))))
    assert {r["finding"] for r in timeline} >= {
        "unsubscribe",
        "violation",
        "within_grace",
        "non_marketing_after_unsubscribe",
    }
    assert any("验证码" in r["body"] for r in timeline)  # the timeline keeps everything
    assert timeline[0]["local_time"].endswith("+08:00") and timeline[0]["timestamp"].endswith("Z")
    lines = [
        x
        for x in (out / "complaints" / "12321.txt").read_text(encoding="utf-8").splitlines()
        if not x.startswith("#")
    ]
    assert len(lines) == 5
    assert lines[0] == "10690123456701*【优选商城】您有一张50元无门槛券即将过期，戳 yx.example.cn/c 回T退订"
    for name in ("12321.txt", "10086999.txt", "10010.txt", "10000999.txt", "7726.txt", "fcc.txt"):
        text = (out / "complaints" / name).read_text(encoding="utf-8")
        assert "验证码" not in text and "周年庆最后一天" not in text  # no OTPs, nothing within grace
    assert (
        (out / "complaints" / "10010.txt")
        .read_text(encoding="utf-8")
        .splitlines()[1]
        .startswith("ljdxjb#10690123456701#【优选商城】")
    )
    assert "field list was not verified" in (out / "complaints" / "fcc.txt").read_text(encoding="utf-8")
    sources = list(csv.DictReader(io.StringIO((out / "sources.csv").read_text(encoding="utf-8"))))
    assert sources[0]["sha256"] == hashlib.sha256(SAMPLE.read_bytes()).hexdigest()
    assert int(sources[0]["size"]) == SAMPLE.stat().st_size
    assert sources[0]["format"] == "sbr_xml"
    summary = (out / "summary.md").read_text(encoding="utf-8")
    assert summary.startswith("# Evidence: 优选商城") and "No confirmation was received" in summary
    assert "MIIT Order No" in summary and "## How to complain" in summary
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    files = {f["name"]: f["sha256"] for f in manifest["files"]}
    assert files["summary.md"] == hashlib.sha256((out / "summary.md").read_bytes()).hexdigest()
    assert len(manifest["complaint_messages"]) == 5
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "<h1>Evidence: 【优选商城】</h1>" in page and 'data-subject="优选" data-violations="5"' in page
    assert files["report.html"] == hashlib.sha256((out / "report.html").read_bytes()).hexdigest()
    assert (out.stat().st_mode & 0o777) == 0o700 and ((out / "summary.md").stat().st_mode & 0o777) == 0o600


def test_cli_evidence_by_number_and_from_store(tmp_path: Path) -> None:
    db = str(tmp_path / "store.sqlite")
    assert runner.invoke(app, ["--db", db, "import", str(SAMPLE)]).exit_code == 0
    out = tmp_path / "pack"
    result = runner.invoke(app, ["--db", db, "evidence", "106575550001", "-o", str(out)])
    assert result.exit_code == 0, result.stderr
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["target"]["brand_display"] == "优选商城"
    assert manifest["sources"][0]["sha256"] == hashlib.sha256(SAMPLE.read_bytes()).hexdigest()
    clean = tmp_path / "clean"
    result = runner.invoke(app, ["--db", db, "evidence", "乐动健身", "-o", str(clean)])
    assert result.exit_code == 0
    assert "nothing to report" in (clean / "complaints" / "12321.txt").read_text(encoding="utf-8")


def test_cli_evidence_unknown_target_and_missing_folder(tmp_path: Path) -> None:
    result = runner.invoke(app, ["evidence", "不存在", str(SAMPLE), "-o", str(tmp_path / "x")])
    assert result.exit_code == 2 and "no messages from or to" in result.stderr
    result = runner.invoke(app, ["evidence", "优选商城", str(SAMPLE)])
    assert result.exit_code == 2 and "hint: add -o DIR" in result.stderr


def test_cli_report_help_lists_options() -> None:
    result = runner.invoke(app, ["report", "--help"])
    for option in (
        "--policy",
        "--grace",
        "--timezone",
        "--details",
        "--check",
        "--new",
        "--redact",
        "--format",
    ):
        assert option in result.stdout


def test_cli_report_iphone_sample_groups_acme_outlet_with_acme() -> None:
    """The US sample: STOP to 72345, confirmed; ACME keeps texting past 10 business days, also as
    "ACME Outlet" from 72346 (one merchant, two short codes); Blue Bottle Coffee honours STOP."""
    result = CliRunner().invoke(app, ["report", str(IPHONE_SAMPLE), "--format", "json"])
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["policy"]["name"] == "us"
    rows = {row["brand"]: row for row in doc["summary"]}
    acme = rows["acme"]
    assert (acme["numbers"], acme["violations"], acme["via_other_numbers"], acme["confirmed"]) == (
        ["72345", "72346"],
        3,
        2,
        "yes",
    )
    assert acme["first_unsubscribe"] == "2024-03-08T15:20:41.000Z"
    assert acme["last_violation"] == "2024-04-05T16:30:00.000Z"
    assert rows["bluebottlecoffee"]["status"] == "honoured"
    rx = [f for f in doc["findings"] if "Rx Reminder" in f.get("body", "")]
    assert rx == []  # a pharmacy pickup notice is not marketing


@pytest.mark.parametrize("fmt", ["table", "jsonl", "md"])
def test_report_check_keeps_exit_1_when_the_reader_stops_early(fmt: str) -> None:
    """`report --check | head -1`: the reader closes the pipe before the report is written; the
    run still exits 1 (violations), quietly."""
    import subprocess
    import sys

    from tests.conftest import REPO

    command = [sys.executable, "-m", "sms_audit", "report", str(SAMPLE), "--check", "--format", fmt]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=REPO)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # before anything is written: every write meets a closed pipe
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 1, err
    assert "Traceback" not in err and "Exception" not in err


def test_cli_report_output_file_suffix_picks_the_format_unless_one_is_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`-o report.html` writes HTML and `-o r.json` one JSON document; a format given by option,
    environment or config still wins (auto is the only thing the suffix decides)."""
    page, doc, rows = tmp_path / "report.html", tmp_path / "r.json", tmp_path / "r.jsonl"
    for target in (page, doc, rows):
        assert runner.invoke(app, ["-q", "report", str(SAMPLE), "-o", str(target)]).exit_code == 0
    assert page.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert json.loads(doc.read_text(encoding="utf-8"))["schema_version"] == 1
    assert len(rows.read_text(encoding="utf-8").splitlines()) == 13
    chosen = tmp_path / "chosen.json"
    assert runner.invoke(app, ["-q", "report", str(SAMPLE), "-f", "csv", "-o", str(chosen)]).exit_code == 0
    assert chosen.read_text(encoding="utf-8").startswith("finding_id,")
    monkeypatch.setenv("SMS_AUDIT_FORMAT", "jsonl")
    from_env = tmp_path / "env.html"
    assert runner.invoke(app, ["-q", "report", str(SAMPLE), "-o", str(from_env)]).exit_code == 0
    assert from_env.read_text(encoding="utf-8").startswith('{"finding_id"')


@pytest.mark.parametrize(
    ("name", "value", "error"),
    [
        ("policy", "xx", "unknown policy 'xx'"),
        ("grace", "abc", "not a duration: 'abc'"),
        ("timezone", "Mars/X", "unknown time zone 'Mars/X'"),
    ],
)
@pytest.mark.parametrize("where", ["option", "env", "config"])
def test_cli_report_bad_setting_names_where_it_came_from(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, value: str, error: str, where: str
) -> None:
    monkeypatch.setenv("SMS_AUDIT_CONFIG_DIR", str(tmp_path))
    args = ["report", str(SAMPLE)]
    source = ""
    if where == "option":
        args += [f"--{name}", value]
    elif where == "env":
        monkeypatch.setenv(f"SMS_AUDIT_{name.upper()}", value)
        source = f" (from $SMS_AUDIT_{name.upper()})"
    else:
        (tmp_path / "config.toml").write_text(f'{name} = "{value}"\n', encoding="utf-8")
        source = f" (from {tmp_path / 'config.toml'})"
    result = runner.invoke(app, args)
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr.splitlines()[0] == f"error: {error}{source}"
    assert result.stderr.splitlines()[1].startswith("hint: ")


@pytest.mark.parametrize("existing", [False, True])
def test_cli_evidence_interrupted_leaves_no_half_pack_and_the_rerun_works(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, existing: bool
) -> None:
    from sms_audit.report import html_report

    out = tmp_path / "pack"
    if existing:  # a folder of the user's: what was there stays, nothing of the pack does
        out.mkdir()
        (out / "notes.txt").write_text("mine", encoding="utf-8")
    real = html_report.write_report_html

    def interrupted(*args: Any, **kwargs: Any) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(html_report, "write_report_html", interrupted)
    result = runner.invoke(app, ["evidence", "优选商城", str(SAMPLE), "-o", str(out)])
    assert result.exit_code == 130 and result.stderr.endswith("\ninterrupted\n")
    left = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*"))
    assert left == (["pack", "pack/notes.txt"] if existing else [])
    monkeypatch.setattr(html_report, "write_report_html", real)
    again = runner.invoke(app, ["evidence", "优选商城", str(SAMPLE), "-o", str(out)])
    assert again.exit_code == 0, again.stderr
    assert (out / "manifest.json").is_file()
