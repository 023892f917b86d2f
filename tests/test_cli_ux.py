"""At home in a terminal, a pipe and a cron job: one-line usage errors, conventional help,
completion, one precedence for every setting."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sms_audit.cli import app
from tests.conftest import REPO, SAMPLE_DATA

runner = CliRunner()
SAMPLE = SAMPLE_DATA / "android-sms-backup.xml"
COMMANDS = ("import", "imports", "messages", "classify", "report", "evidence")


@pytest.mark.parametrize(
    ("args", "error", "hint"),
    [
        (["report", "--bogus"], "error: no such option: --bogus", "hint: see sms-audit report --help"),
        (
            ["report", "--formt", "json"],
            "error: no such option: --formt",
            "hint: did you mean --format or --input-format?",
        ),
        (
            ["messages", "--limit", "-1"],
            "error: invalid value for --limit: Input should be greater than or equal to 0",
            "hint: see sms-audit messages --help",
        ),
        (
            ["report", "--format", "xml"],
            "error: invalid value for --format: 'xml' is not one of auto, table, json, jsonl, csv, md, html",
            "hint: did you mean --format html?",
        ),
        (
            ["report", "--format", "yaml"],
            "error: invalid value for --format: 'yaml' is not one of auto, table, json, jsonl, csv, md, html",
            "hint: see sms-audit report --help",
        ),
        (
            ["report", "--format", "jsn"],
            "error: invalid value for --format: 'jsn' is not one of auto, table, json, jsonl, csv, md",
            "hint: did you mean --format json?",
        ),
        (["messages", "--format", "md"], "error: invalid value for --format: 'md' is not one of", "hint:"),
        (["import"], "error: missing argument 'PATH...'", "hint: see sms-audit import --help"),
        (["--regoin", "CN", "messages"], "error: no such option: --regoin", "hint: did you mean --region?"),
    ],
)
def test_usage_errors_are_one_line_and_a_hint(args: list[str], error: str, hint: str) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 2, result.stderr
    assert lines[0].startswith(error) and lines[1].startswith(hint)
    assert result.stdout == "" and "╭" not in result.stderr and "Usage:" not in result.stderr


def test_help_uses_conventional_metavars_and_shows_examples() -> None:
    for command in COMMANDS:
        text = runner.invoke(app, [command, "--help"]).stdout
        usage = text.splitlines()[0]
        assert "<bool>" not in text and "<str>" not in text and "<list" not in text and "{" not in usage
        assert "\nExamples:" in text.replace("  Examples:", "\nExamples:")
        assert text.count(f"sms-audit {command} ") >= 2, command
    assert "Usage: sms-audit import [OPTIONS] PATH..." in runner.invoke(app, ["import", "--help"]).stdout
    assert "Usage: sms-audit report [OPTIONS] [ARCHIVE]..." in runner.invoke(app, ["report", "--help"]).stdout
    assert "-f, --format FORMAT" in runner.invoke(app, ["messages", "--help"]).stdout


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_shell_completion_scripts(shell: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMS_AUDIT_")}
    result = subprocess.run(
        [sys.executable, "-m", "sms_audit", "--show-completion", shell],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**env, "_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION": "1"},
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "sms_audit" in result.stdout.replace("-", "_") and len(result.stdout) > 100


# --- one precedence: option > environment > config.toml > default --------------------------------


def _config(isolated_env: Path, **values: str) -> None:
    folder = isolated_env / "config" / "sms-audit"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.toml").write_text(
        "".join(f'{k} = "{v}"\n' for k, v in values.items()), encoding="utf-8"
    )


def _report(*args: str) -> dict:
    result = runner.invoke(app, ["report", str(SAMPLE), "--format", "json", *args])
    assert result.exit_code in (0, 1), result.stderr
    return json.loads(result.stdout)


def test_format_from_config_env_and_option(isolated_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first_line = lambda *args: runner.invoke(
        app, ["messages", str(SAMPLE), "--limit", "1", *args]
    ).stdout.split("\n")[0]
    assert first_line().startswith("{")  # default: auto → JSON Lines in a pipe
    _config(isolated_env, format="csv")
    assert first_line().startswith("message_id,timestamp")
    monkeypatch.setenv("SMS_AUDIT_FORMAT", "json")
    assert first_line() == "{"
    assert first_line("--format", "jsonl").startswith('{"message_id"')
    monkeypatch.setenv("SMS_AUDIT_FORMAT", "md")  # not offered by messages
    bad = runner.invoke(app, ["messages", str(SAMPLE)])
    assert bad.exit_code == 2 and bad.stderr.startswith("error: unknown format 'md' (from $SMS_AUDIT_FORMAT)")


def test_grace_policy_timezone_precedence_and_sources(
    isolated_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    doc = _report()
    assert (doc["policy"]["name"], doc["policy"]["grace"], doc["timezone"]["source"]) == (
        "cn",
        "24 hours",
        "main zone of region CN",
    )
    _config(isolated_env, grace="72h", policy="strict", timezone="UTC")
    doc = _report()
    assert (doc["policy"]["name"], doc["policy"]["grace"]) == ("strict", "3 days")
    assert doc["timezone"] == {"name": "UTC", "source": "config"}
    md = runner.invoke(app, ["report", str(SAMPLE), "--format", "md"]).stdout
    assert "(grace overridden in config.toml)" in md and "with --grace" not in md
    monkeypatch.setenv("SMS_AUDIT_GRACE", "48h")
    monkeypatch.setenv("SMS_AUDIT_POLICY", "us")
    monkeypatch.setenv("SMS_AUDIT_TIMEZONE", "Asia/Tokyo")
    doc = _report()
    assert (doc["policy"]["name"], doc["policy"]["grace"], doc["timezone"]["name"]) == (
        "us",
        "2 days",
        "Asia/Tokyo",
    )
    assert (
        "(grace overridden with $SMS\\_AUDIT\\_GRACE)"
        in runner.invoke(app, ["report", str(SAMPLE), "--format", "md"]).stdout
    )
    doc = _report("--grace", "1h", "--policy", "cn", "--timezone", "Europe/London")
    assert (doc["policy"]["name"], doc["policy"]["grace"]) == ("cn", "1 hour")
    assert doc["timezone"] == {"name": "Europe/London", "source": "--timezone"}


def test_db_and_region_precedence(
    isolated_env: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from_config, from_env, from_option = tmp_path / "c.sqlite", tmp_path / "e.sqlite", tmp_path / "o.sqlite"
    _config(isolated_env, db=str(from_config), region="US")
    runner.invoke(app, ["-q", "import", str(SAMPLE)])
    assert from_config.exists()
    assert (
        json.loads(runner.invoke(app, ["imports", "--format", "jsonl"]).stdout.splitlines()[0])["region"]
        == "US"
    )
    monkeypatch.setenv("SMS_AUDIT_DB", str(from_env))
    monkeypatch.setenv("SMS_AUDIT_REGION", "GB")
    runner.invoke(app, ["-q", "import", str(SAMPLE)])
    assert from_env.exists()
    assert json.loads(runner.invoke(app, ["imports"]).stdout.splitlines()[0])["region"] == "GB"
    runner.invoke(app, ["-q", "import", str(SAMPLE), "--db", str(from_option), "--region", "CN"])
    assert (
        json.loads(runner.invoke(app, ["--db", str(from_option), "imports"]).stdout.splitlines()[0])["region"]
        == "CN"
    )


def test_sender_filter_takes_a_national_number_in_the_stores_region(tmp_path: Path) -> None:
    db = tmp_path / "s.sqlite"
    runner.invoke(app, ["--db", str(db), "-q", "import", str(SAMPLE)])
    rows = [
        json.loads(x)
        for x in runner.invoke(
            app, ["--db", str(db), "messages", "--sender", "13900004321"]
        ).stdout.splitlines()
    ]
    assert len(rows) == 2 and {r["address"] for r in rows} == {"+8613900004321"}


def test_classify_passes_input_fields_through_with_their_types() -> None:
    lines = [
        {"id": 1, "direction": "out", "sender": "10690123456701", "body": "T"},
        {"id": 2, "direction": "in", "address": "10690123456701", "body": "【ACME】会员日全场5折 回T退订"},
        {"id": "3", "direction": "out", "address": "10690123456701", "body": "T", "extra": [1, None]},
    ]
    result = runner.invoke(app, ["classify", "-"], input="\n".join(json.dumps(x) for x in lines))
    rows = [json.loads(x) for x in result.stdout.splitlines()]
    assert [r["id"] for r in rows] == [1, 2, "3"]  # numbers stay numbers, strings strings
    assert "address" not in rows[0] and "sender" not in rows[1]  # absent stays absent
    assert rows[0]["sender"] == "10690123456701" and rows[2]["extra"] == [1, None]
    assert rows[0]["sender_kind"] == rows[1]["sender_kind"] == "cn_commercial_port"  # the sender was used
    assert list(rows[2])[:5] == ["id", "direction", "address", "body", "extra"]


def test_missing_input_is_exit_3_everywhere(tmp_path: Path) -> None:
    gone = str(tmp_path / "gone.xml")
    for args in (
        ["classify", gone],
        ["import", gone],
        ["messages", gone],
        ["report", gone],
        ["evidence", "x", gone, "-o", str(tmp_path / "p")],
    ):
        result = runner.invoke(app, ["--db", str(tmp_path / "s.sqlite"), *args])
        assert result.exit_code == 3, args
        assert result.stderr.startswith(f"error: {gone}: no such file or directory"), args
        assert result.stdout == "", args  # no empty report


def _widest(text: str) -> int:
    from rich.cells import cell_len

    return max(cell_len(line) for line in text.splitlines())


@pytest.mark.parametrize("columns", [80, 160])
def test_imports_table_has_human_headers_and_fits(
    columns: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = str(tmp_path / "s.sqlite")
    runner.invoke(app, ["--db", db, "-q", "import", str(SAMPLE)])
    monkeypatch.setenv("COLUMNS", str(columns))
    result = runner.invoke(app, ["--db", db, "imports", "--format", "table", "--timezone", "Asia/Shanghai"])
    lines = result.stdout.splitlines()
    assert lines[0] == f"Imports into {db} (times in Asia/Shanghai)"
    assert lines[1].split()[:3] in (["Imported", "File", "Status"], ["#", "Imported", "File"])
    assert "finished_at" not in result.stdout and "import_id" not in result.stdout
    assert "/android-sms-backup.xml  " in lines[3]  # a long path loses its start, never its name
    assert _widest("\n".join(lines[1:])) <= columns
    # one row, one line: the time is never folded (minutes at 80 columns)
    assert len(lines) == 4 and lines[3].split()[0 if columns == 80 else 1][:2] == "20"


def test_wide_shows_every_column(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    narrow = runner.invoke(app, ["messages", str(SAMPLE), "--format", "table", "--limit", "25"])
    wide = runner.invoke(app, ["messages", str(SAMPLE), "--format", "table", "--limit", "25", "--wide"])
    assert narrow.stdout.splitlines()[1].split() == ["Time", "Dir", "Number", "Label", "Message"]
    assert wide.stdout.splitlines()[1].split() == ["Time", "Dir", "Number", "Brand", "Label", "Message"]
    assert _widest(narrow.stdout) <= 80 < _widest(wide.stdout)
    assert "2025-06-02 11:24:00" in wide.stdout and "2025-06-02 11:24 " in narrow.stdout
    report = runner.invoke(app, ["report", str(SAMPLE), "--format", "table", "--wide"])
    assert report.stdout.splitlines()[1].split()[:4] == ["Brand", "/", "sender", "Weekly"]


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["classify", "/nonexistent/input.jsonl", "-o", "{out}/x.md"], "does not write Markdown"),
        (["classify", "-", "-o", "{out}/x.html"], "does not write HTML"),  # before stdin is read
        (["league", "/nonexistent/findings.json", "-o", "{out}/l.xlsx"], "does not write Excel"),
        (["report", "{sample}", "-o", "{out}/r.pdf"], "does not write PDF"),
        (["messages", "{sample}", "-o", "{out}/m.tsv"], "does not write TSV"),
        (["imports", "-o", "{out}/i.yaml"], "does not write YAML"),
        (["share", "{sample}", "-o", "{out}/s.md"], "this command writes JSON, not the Markdown"),
    ],
)
def test_an_output_suffix_the_command_cannot_honour_is_refused_before_any_work(
    tmp_path: Path, args: list[str], said: str
) -> None:
    sample = str(REPO / "sample_data" / "android-sms-backup.xml")
    argv = [a.format(out=tmp_path, sample=sample) for a in args]
    result = runner.invoke(app, ["--db", str(tmp_path / "s.sqlite"), *argv], input="not read\n")
    assert result.exit_code == 2, result.stderr
    assert said in result.stderr.splitlines()[0]
    assert result.stdout == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # no output, no store
