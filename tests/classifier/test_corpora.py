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


# --- annotated rows ------------------------------------------------------------------------------

_EXAIS_HEADER = "SMS,Occasion,Target1,Target2,Date,Unknown,Label,Message\n"


def _exais_folder(root: Path, rows: list[tuple[str, str, str, str]]) -> Path:
    folder = root / "corpora" / "exais-sms"
    folder.mkdir(parents=True)
    lines = [
        f"SMS,{occ},{sender},{sender},4/9/2014 8:29,1026,{label},{body}\n"
        for occ, sender, label, body in rows
    ]
    (folder / "all_ExAIS_SPAM_Dataset.csv").write_text(_EXAIS_HEADER + "".join(lines), encoding="utf-8")
    return root / "corpora"


def _annotations(path: Path, rows: list[tuple[str, str, str, str]]) -> Path:
    text = "key\tcorpus\tcorpus_label\tclass\n" + "".join("\t".join(r) + "\n" for r in rows)
    path.write_text(text, encoding="utf-8")
    return path


def test_annotations_override_the_label_map_and_the_rest_falls_back(tmp_path: Path) -> None:
    from sms_audit.classifier.corpora import annotation_key
    from sms_audit.classifier.train import load_training_set

    notice = "Y'ello! Your data balance is 120.50MB. Expires 10/Aug/2014 17:59."
    promo = "Get 1GB for N1000 this weekend only! Dial *131*9# now."
    unannotated = "Text LOVE to 35061 for free love tips. N20/day afterwards."
    corpora = _exais_folder(
        tmp_path,
        [
            ("receive", "131", "SPAM", notice),
            ("receive", "MTN N", "HAM", promo),
            ("receive", "35061", "SPAM", unannotated),
            ("send", "131", "HAM", "STATUS"),
        ],
    )
    notes = _annotations(
        tmp_path / "annotations.tsv",
        [
            # digits differ from the corpus text: the key folds them, as dev.tsv's masking does
            (annotation_key(notice.replace("120.50", "345.67")), "exais-sms", "receive/SPAM", "other"),
            (annotation_key(promo), "exais-sms", "receive/HAM", "marketing"),
        ],
    )
    data = load_training_set(corpora, tmp_path / "no-dev.tsv", names=["exais-sms"], annotations=notes)
    got = {body: CLASSES[t] for body, t in zip(data.body, data.target, strict=True)}
    assert got == {notice: "other", promo: "marketing", unannotated: "marketing", "STATUS": "other"}
    assert dict(data.annotated) == {"exais-sms": 2}
    plain = load_training_set(corpora, tmp_path / "no-dev.tsv", names=["exais-sms"], annotations=None)
    assert [CLASSES[t] for t in plain.target] == ["marketing", "other", "marketing", "other"]


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (
            ("0123456789abcdef", "exais-sms", "receive/SPAM", "spam"),
            "annotations.tsv line 3: exais-sms receive/SPAM spam",
        ),
        (
            ("0123456789abcdef", "nus-sms-corpus", "sent", "other"),
            "annotations.tsv line 3: nus-sms-corpus sent other",
        ),
    ],
)
def test_read_annotations_refuses_unknown_classes_and_labels_naming_the_line(
    tmp_path: Path, row: tuple[str, str, str, str], message: str
) -> None:
    from sms_audit.classifier.corpora import read_annotations

    good = ("fedcba9876543210", "zh-mudou-spam", "0", "other")
    path = _annotations(tmp_path / "annotations.tsv", [good, row])
    with pytest.raises(ValueError) as caught:
        read_annotations(path)
    assert str(caught.value) == message


def test_the_packaged_annotations_are_readable_and_cover_each_annotated_label() -> None:
    import csv

    from sms_audit.classifier.corpora import ANNOTATED_LABELS, ANNOTATIONS_FILE, read_annotations

    notes = read_annotations()
    assert len(notes) > 2000
    assert set(notes.values()) <= set(CLASSES)
    with ANNOTATIONS_FILE.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))
    assert {(r["corpus"], r["corpus_label"]) for r in rows} == set(ANNOTATED_LABELS)
    assert len(rows) == len(notes)  # one row per (corpus, key)
    assert all(len(r["key"]) == 16 and int(r["key"], 16) >= 0 for r in rows)


def test_no_annotated_text_is_a_dev_tsv_body(shared_dev: Path) -> None:
    import hashlib

    from sms_audit.classifier.corpora import read_annotations, read_dev_bodies

    dev_keys = {hashlib.sha256(k.encode("utf-8")).hexdigest()[:16] for k in read_dev_bodies(shared_dev)}
    assert len(dev_keys) > 800
    assert not dev_keys & {key for _, key in read_annotations()}


def test_annotation_key_folds_digits_case_and_spaces() -> None:
    from sms_audit.classifier.corpora import annotation_key

    assert annotation_key("Your balance is 120.50MB") == annotation_key("your  balance is 998.01mb")
    assert annotation_key("Your balance is 120.50MB") != annotation_key("Your balance is 12.50MB")
    assert len(annotation_key("x")) == 16
