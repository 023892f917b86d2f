"""``sms-audit league``: findings files == raw archives, LocalCluster == synchronous, failures, retries."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from sms_audit.cli import app
from sms_audit.league import LEAGUE_COLUMNS, SYNCHRONOUS, league, load_input
from tests.conftest import REPO, SAMPLE_DATA

pytest.importorskip("distributed")
runner = CliRunner()


@pytest.fixture(scope="module")
def donations(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Three copies of the Android sample and one of the iPhone sample (four donors), raw and shared."""
    root = tmp_path_factory.mktemp("donations")
    raw, shared = root / "raw", root / "findings"
    raw.mkdir()
    shared.mkdir()
    for i in range(3):
        shutil.copy(SAMPLE_DATA / "android-sms-backup.xml", raw / f"android-{i}.xml")
    shutil.copy(SAMPLE_DATA / "iphone-sms.db", raw / "iphone.db")
    for archive in sorted(raw.iterdir()):
        result = runner.invoke(app, ["-q", "share", str(archive), "-o", str(shared / f"{archive.stem}.json")])
        assert result.exit_code == 0, result.output
    return {"raw": raw, "findings": shared}


def test_league_from_findings_equals_league_from_raw_archives(donations: dict[str, Path]) -> None:
    raw = league([donations["raw"]], scheduler=SYNCHRONOUS, min_donors=1)
    shared = league([donations["findings"]], scheduler=SYNCHRONOUS, min_donors=1)
    assert raw.rows == shared.rows
    assert (raw.archives, raw.findings_files, shared.archives, shared.findings_files) == (4, 0, 0, 4)
    assert raw.donors == shared.donors == 4 and not raw.errors and not shared.errors
    top = raw.rows[0]
    assert top["subject"] == "优选" and top["brand_display"] == "优选商城" and top["regions"] == ["CN"]
    assert (top["donors"], top["donors_affected"], top["unsubscribes"], top["ignored"]) == (3, 3, 3, 3)
    assert (top["ignore_rate"], top["violating_messages"], top["numbers_after_unsubscribe"]) == (1.0, 15, 3)
    # first violation 2025-09-13 03:00Z after the TD at 2025-09-10 12:15Z: 62.75 h
    assert (top["median_hours_to_violation"], top["p90_hours_to_violation"]) == (62.8, 62.8)
    assert top["confirmation_rate"] == 0.0
    assert top["first_seen"].isoformat() == "2025-09-10T12:15:00+00:00"
    assert top["last_seen"].isoformat() == "2025-11-10T16:05:00+00:00"
    acme = next(r for r in raw.rows if r["subject"] == "acme")
    assert (acme["donors"], acme["donors_affected"], acme["confirmation_rate"]) == (1, 1, 1.0)
    assert [r["subject"] for r in raw.rows][:2] == ["优选", "acme"]  # sorted by donors affected


def test_league_min_donors_hides_brands_of_too_few_donors(donations: dict[str, Path]) -> None:
    result = league([donations["findings"]], scheduler=SYNCHRONOUS)  # default K = 3
    assert [r["subject"] for r in result.rows] == ["优选", "乐动健身", "快达物流", "星巴客", "美味外卖"]
    assert result.hidden == 2  # acme and Blue Bottle Coffee: one donor each
    assert list(result.frame().columns) == list(LEAGUE_COLUMNS)


def test_local_cluster_equals_synchronous_and_survives_a_dying_worker(
    donations: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tempfile

    import dask

    inputs = [donations["raw"], donations["findings"]]
    expected = league(inputs, scheduler=SYNCHRONOUS, min_donors=1)
    marker = tmp_path / "killed-once"
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    before = dask.config.get("temporary-directory", None)
    result = league(inputs, workers=2, min_donors=1, load=partial(_die_once, marker=str(marker)))
    assert list(scratch.iterdir()) == []  # the workers' scratch space is gone with the cluster
    assert dask.config.get("temporary-directory", None) == before
    assert marker.exists()  # a worker process really died during the run
    assert result.rows == expected.rows and result.errors == expected.errors
    assert result.scheduler == "a local cluster of 2 workers" and len(result.peak_memory) == 2
    assert all(v > 50 * 2**20 for v in result.peak_memory.values())


def _die_once(index: int, source: str, rules: Any, *, marker: str) -> dict[str, Any]:
    """load_input, but the first call anywhere kills its worker process (Dask must rerun the task)."""
    try:
        fd = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        return load_input(index, source, rules)
    os.close(fd)
    os._exit(1)


def test_unreadable_inputs_are_listed_and_the_rest_still_counts(
    donations: dict[str, Path], tmp_path: Path
) -> None:
    junk = tmp_path / "notes.txt"
    junk.write_text("not an archive\n", encoding="utf-8")
    broken = tmp_path / "broken.json"
    broken.write_text('{"format": "sms-audit-findings", "schema_version": 1, "brands": [', encoding="utf-8")
    truncated = tmp_path / "cut.xml"
    data = (SAMPLE_DATA / "android-sms-backup.xml").read_bytes()
    truncated.write_bytes(data[: len(data) // 2])
    out = tmp_path / "league.json"
    result = runner.invoke(
        app,
        [
            "league",
            str(donations["findings"]),
            str(junk),
            str(broken),
            str(truncated),
            str(tmp_path / "gone.xml"),
            "--scheduler",
            "synchronous",
            "--min-donors",
            "1",
            "-f",
            "json",
            "-o",
            str(out),
        ],
    )
    assert result.exit_code == 3, result.output
    doc = json.loads(out.read_text(encoding="utf-8"))
    errors = {Path(e["input"]).name: e for e in doc["errors"]}
    assert set(errors) == {"notes.txt", "broken.json", "cut.xml", "gone.xml"}
    assert (
        errors["notes.txt"]["reason"] == "not a supported archive"
        and errors["notes.txt"]["kind"] == "unknown"
    )
    assert (
        errors["broken.json"]["reason"].startswith("not valid JSON")
        and errors["broken.json"]["kind"] == "findings"
    )
    assert errors["gone.xml"]["reason"] == "cannot read: no such file or folder"
    assert errors["cut.xml"]["used"] is True  # every complete message before the break counts
    assert doc["inputs"] == {
        "total": 8,
        "findings_files": 5,
        "archives": 1,
        "failed": 4,
        "repeated_donor_ids": 0,
    }
    assert doc["donors"] == 5
    assert "4 inputs could not be read (the league was computed from the rest)" in result.stderr
    assert "notes.txt" in result.stderr and "league: 8 inputs" in result.stderr


def test_repeated_donor_id_counts_once_newest_file_wins(donations: dict[str, Path], tmp_path: Path) -> None:
    first = json.loads((donations["findings"] / "android-0.json").read_text(encoding="utf-8"))
    newer = {**first, "generated_at": "2099-01-01T00:00:00.000Z", "brands": first["brands"][:1]}
    (tmp_path / "a.json").write_text(json.dumps(first), encoding="utf-8")
    (tmp_path / "b.json").write_text(json.dumps(newer), encoding="utf-8")
    result = league([tmp_path], scheduler=SYNCHRONOUS, min_donors=1)
    assert result.donors == 1 and result.duplicates == 1
    assert [r["subject"] for r in result.rows] == ["优选"]


def test_league_cli_formats_env_scheduler_and_fsspec_urls(
    donations: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DASK_SCHEDULER_ADDRESS", "synchronous")
    url = donations["findings"].as_uri()  # file:///…: the fsspec path object storage takes
    result = runner.invoke(app, ["league", url, "-f", "csv"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == ",".join(LEAGUE_COLUMNS)
    assert lines[1].startswith("优选,优选商城,CN,3,3,3,3,1.0,15,3,62.8,62.8,0.0,2025-09-10T12:15:00.000Z,")
    assert "on the synchronous scheduler" in result.stderr and "4 findings files" in result.stderr
    jsonl = runner.invoke(app, ["league", str(donations["findings"]), "-f", "jsonl"])
    assert next(json.loads(x)["subject"] for x in jsonl.stdout.splitlines()) == "优选"
    table = runner.invoke(app, ["league", str(donations["findings"]), "-f", "table"])
    assert "【优选商城】" in table.stdout and "Donors affected" in table.stdout


def test_league_cli_usage_errors(donations: dict[str, Path]) -> None:
    both = runner.invoke(
        app, ["league", str(donations["findings"]), "--workers", "2", "--scheduler", "tcp://127.0.0.1:1"]
    )
    assert both.exit_code == 2 and "cannot be used with --scheduler" in both.stderr
    few = runner.invoke(app, ["league", str(donations["findings"]), "--min-donors", "0"])
    assert few.exit_code == 2
    down = runner.invoke(app, ["league", str(donations["findings"]), "--scheduler", "tcp://127.0.0.1:9"])
    assert down.exit_code == 2 and down.stderr.startswith("error: cannot connect to the Dask scheduler")
    assert "Traceback" not in down.output


def test_cli_start_up_does_not_import_dask() -> None:
    code = "import sys, sms_audit.cli; print(sorted(m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed', 'pandas')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO)
    assert out.stdout.strip() == "[]"


def test_bench_small_recovers_planted_behaviour(tmp_path: Path) -> None:
    """The CI run of bench/bench_league.py: 20 archives, every scheduler identical, Spearman >= 0.9."""
    sys.path.insert(0, str(REPO / "bench"))
    try:
        import bench_league
    finally:
        sys.path.remove(str(REPO / "bench"))
    checks = bench_league.main(["--small", "--out", str(tmp_path / "bench")])
    assert checks["identical"] is True and checks["errors"] == 0
    assert checks["merchants"] >= 8 and checks["spearman"] >= 0.9
    truth = json.loads((tmp_path / "bench" / "ground-truth.json").read_text(encoding="utf-8"))
    assert len(truth["archives"]) == 20 and len(truth["merchants"]) == 10
