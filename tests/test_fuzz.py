"""Seeded mutation fuzzing of every importer in the catalog: 1,000 cases each through
bench/fuzz_importers.py (the same harness, worker processes with the hang and memory guards), and
no case may crash through the error boundary's catch-all, raise, hang or pass 400 MB."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from sms_audit.archive_formats import CATALOG
from tests.conftest import REPO

CASES = 1000
SEED = 12


def _harness() -> ModuleType:
    bench = str(REPO / "bench")
    if bench not in sys.path:
        sys.path.insert(0, bench)  # also how the spawned workers find the module
    return importlib.import_module("fuzz_importers")


fuzz_importers = _harness()


@pytest.fixture(scope="module")
def tallies() -> dict[str, Any]:
    names = fuzz_importers.importer_names()
    return fuzz_importers.fuzz(names, CASES, seed=SEED, workers=2)  # type: ignore[no-any-return]


@pytest.mark.parametrize("importer", [f.name for f in CATALOG])
def test_fuzzed_importer_never_crashes_hangs_or_blows_up(tallies: dict[str, Any], importer: str) -> None:
    tally = tallies[importer]
    assert tally.cases == CASES
    bugs = [
        f"{o.kind} {site}\n  case {o.index} (seed {SEED}) from {o.seed}: {'; '.join(o.ops)}\n{o.detail}"
        for site, o in tally.bugs.items()
    ]
    assert not bugs, "\n\n".join(bugs)
    # Most cases must reach the importer (not just the sniffer), and both sides must be exercised
    assert tally.share >= fuzz_importers.MIN_DETECTED, tally.kinds
    assert tally.kinds["ok"] + tally.kinds["skipped"] >= CASES // 10, tally.kinds
    assert tally.kinds["corrupt"] + tally.kinds["truncated"] + tally.kinds["unsupported"] >= CASES // 20


def test_every_catalog_importer_has_seeds() -> None:
    for info in CATALOG:
        seeds = fuzz_importers.seeds_for(info.name)
        assert seeds, info.name
        assert all(seed.files for seed in seeds)


def test_cases_are_the_same_for_the_same_seed() -> None:
    for name in fuzz_importers.importer_names():
        for index in (1, 2, 6, 333):
            first, again = fuzz_importers.make_case(name, index, 5), fuzz_importers.make_case(name, index, 5)
            assert (first.files, first.ops) == (again.files, again.ops)
        other = [fuzz_importers.make_case(name, i, 6).files for i in range(1, 6)]
        assert other != [fuzz_importers.make_case(name, i, 5).files for i in range(1, 6)]


def test_an_unexpected_exception_is_reported_with_its_crash_site(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The harness must be able to fail: an importer fault shows as a catch-all with its site."""
    from sms_audit.importers import android_xml

    def broken(*_args: object) -> object:
        raise KeyError("boom")

    monkeypatch.setattr(android_xml, "_sms", broken)
    # run in this (pytest) process, whose resident size late in a full run can pass the workers'
    # 400 MB guard by itself: that guard is not what this test is about
    monkeypatch.setattr(fuzz_importers, "PEAK_MB", 1 << 20)
    seed = fuzz_importers.seeds_for("sbr_xml")[0]
    case = fuzz_importers.Case("sbr_xml", 7, seed.title, seed.name, dict(seed.files), [])
    outcome = fuzz_importers.run_alone(case, tmp_path)
    assert (outcome.kind, outcome.detected, outcome.bug) == ("catch-all", True, True)
    assert outcome.site.startswith("KeyError at sms_audit/importers/android_xml.py:")
    assert outcome.site.endswith(" in read_records")
    assert "KeyError: 'boom'" in outcome.detail


def test_hang_site_is_read_from_the_faulthandler_dump() -> None:
    dump = (
        "Timeout (0:00:10)!\n"
        'Thread 0x00007f (most recent call first):\n  File "/x/sms_audit/importers/sms_ie.py", line 250 in iter_json_array\n'
        '  File "/x/sms_audit/pipeline.py", line 430 in _take\n'
    )
    assert (
        fuzz_importers._hang_site(dump, "sms_ie")
        == "hang at sms_audit/importers/sms_ie.py:250 in iter_json_array"
    )
    assert fuzz_importers._hang_site("", "sms_ie") == "hang (sms_ie, no sms_audit frame)"
