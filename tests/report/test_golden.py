"""Golden files: what people read, byte for byte — the report as a table at natural width (a file
or pipe), at 80 and 160 columns (``COLUMNS``, as a terminal sets it), and as Markdown; the
``messages`` listing at 80 and 160 columns."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sms_audit.cli import app
from tests.conftest import SAMPLE_DATA

runner = CliRunner()
ANDROID = str(SAMPLE_DATA / "android-sms-backup.xml")
IPHONE = str(SAMPLE_DATA / "iphone-sms.db")

CASES = [
    ("report-android.table.txt", None, ["report", ANDROID, "--format", "table"]),
    ("report-android.80.txt", 80, ["report", ANDROID, "--format", "table"]),
    ("report-android.160.txt", 160, ["report", ANDROID, "--format", "table"]),
    ("report-android-details.table.txt", None, ["report", ANDROID, "--format", "table", "--details"]),
    ("report-android-details.80.txt", 80, ["report", ANDROID, "--format", "table", "--details"]),
    ("report-android-details.160.txt", 160, ["report", ANDROID, "--format", "table", "--details"]),
    ("report-android-wide.80.txt", 80, ["report", ANDROID, "--format", "table", "--wide"]),
    ("report-android.md", None, ["report", ANDROID, "--format", "md"]),
    ("report-iphone.table.txt", None, ["report", IPHONE, "--format", "table"]),
    ("report-iphone.80.txt", 80, ["report", IPHONE, "--format", "table"]),
    ("report-iphone.160.txt", 160, ["report", IPHONE, "--format", "table"]),
    ("report-iphone.md", None, ["report", IPHONE, "--format", "md"]),
    ("messages-android.80.txt", 80, ["messages", ANDROID, "--format", "table", "--limit", "25"]),
    ("messages-android.160.txt", 160, ["messages", ANDROID, "--format", "table", "--limit", "25"]),
]


@pytest.mark.parametrize(("name", "columns", "args"), CASES, ids=[c[0] for c in CASES])
def test_golden(
    name: str,
    columns: int | None,
    args: list[str],
    golden: Callable[[str, str], None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if columns is not None:
        monkeypatch.setenv("COLUMNS", str(columns))
    result = runner.invoke(app, ["-q", *args])
    assert result.exit_code == 0, result.stderr
    golden(name, result.stdout.replace(str(SAMPLE_DATA), "sample_data"))


def _widest(path: Path) -> int:
    from rich.cells import cell_len

    return max(cell_len(line) for line in path.read_text(encoding="utf-8").splitlines())


@pytest.mark.parametrize("columns", [80, 160])
def test_golden_tables_fit_their_width(columns: int) -> None:
    """Every golden table at N columns fits N columns (the --wide one does not have to)."""
    from tests.conftest import GOLDEN

    for name, width, _ in CASES:
        if width == columns and "wide" not in name:
            assert _widest(GOLDEN / name) <= columns, name
