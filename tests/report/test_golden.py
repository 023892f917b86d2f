"""Golden files: the table and Markdown reports of the bundled samples, byte for byte."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from typer.testing import CliRunner

from sms_audit.cli import app
from tests.conftest import SAMPLE_DATA

runner = CliRunner()


@pytest.mark.parametrize(
    ("name", "args"),
    [
        (
            "report-android.table.txt",
            ["report", str(SAMPLE_DATA / "android-sms-backup.xml"), "--format", "table"],
        ),
        (
            "report-android-details.table.txt",
            ["report", str(SAMPLE_DATA / "android-sms-backup.xml"), "--format", "table", "--details"],
        ),
        ("report-android.md", ["report", str(SAMPLE_DATA / "android-sms-backup.xml"), "--format", "md"]),
        ("report-iphone.table.txt", ["report", str(SAMPLE_DATA / "iphone-sms.db"), "--format", "table"]),
        ("report-iphone.md", ["report", str(SAMPLE_DATA / "iphone-sms.db"), "--format", "md"]),
    ],
)
def test_report_golden(name: str, args: list[str], golden: Callable[[str, str], None]) -> None:
    result = runner.invoke(app, ["-q", *args])
    assert result.exit_code == 0, result.stderr
    golden(name, result.stdout.replace(str(SAMPLE_DATA), "sample_data"))
