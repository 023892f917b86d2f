"""The corpus label map: one table in code (LABEL_MAP) and the same table in docs/classifier.md."""

from __future__ import annotations

from pathlib import Path

import pytest

from sms_audit.classifier.corpora import CLASSES, EXCLUDED, LABEL_MAP, READERS, body_key, map_label

DOC = Path(__file__).resolve().parents[2] / "docs" / "classifier.md"


def test_label_map_table_in_the_docs_matches_the_code() -> None:
    rows = []
    for line in DOC.read_text(encoding="utf-8").splitlines():
        if line.startswith("| `"):
            cells = [c.strip() for c in line.strip("|").split("|")]
            rows.append((cells[0].strip("`"), cells[1].strip("`"), cells[2], cells[3]))
    expected = [(e.corpus, e.source_label, e.target or "(not used)", e.sender) for e in LABEL_MAP]
    assert rows == expected


def test_label_map_covers_every_reader_and_maps_to_known_classes() -> None:
    assert {e.corpus for e in LABEL_MAP} == set(READERS)
    assert all(e.target in (*CLASSES, EXCLUDED) for e in LABEL_MAP)
    assert all(e.sender in ("real", "none") for e in LABEL_MAP)


@pytest.mark.parametrize(
    ("corpus", "label", "target"),
    [
        ("uci-sms-spam", "spam/smishing", "scam"),
        ("uci-sms-spam", "spam", "marketing"),
        ("exais-sms", "send/HAM", "other"),
        ("smishtank", "Advertisement", EXCLUDED),
        ("smishtank", "Prize/Contest", "scam"),
        ("zh-fbs-spam", "IL", "scam"),
    ],
)
def test_map_label_picks_the_first_matching_row(corpus: str, label: str, target: str) -> None:
    assert map_label(corpus, label).target == target


def test_body_key_folds_what_dev_tsv_masks() -> None:
    assert body_key("Call 139xxxxxxxx NOW") == body_key('call 13912345678 now"')
