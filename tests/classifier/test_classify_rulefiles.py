"""User rule files, their validation, the input reader, robustness, and a dev.tsv floor."""

from __future__ import annotations

import csv
import io
from contextlib import closing
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sms_audit.classifier import CLASSIFY_COLUMNS, classify_frame, load_rules, read_classify_input
from sms_audit.errors import UsageError


def frame(*rows: tuple[str, str, str]) -> pd.DataFrame:
    return pd.DataFrame(list(rows), columns=["direction", "address", "body"])


def test_load_rules_packaged_ids_are_unique_and_labelled() -> None:
    rules = load_rules(None)
    ids = [r.id for r in rules.rules]
    assert len(ids) == len(set(ids))
    assert {"zh.code", "en.code", "zh.optout-footer", "en.confirmation", "zh.reply-keyword"} <= set(ids)


def test_load_rules_user_file_changes_a_label(tmp_path: Path) -> None:
    (tmp_path / "mine.toml").write_text(
        '[[rule]]\nid = "me.bank-news"\nlabel = "marketing"\ndirection = "in"\npriority = 99\n'
        "pattern = '''财富早间版'''\n",
        encoding="utf-8",
    )
    body = "【招商证券】财富早间版：美股三大指数收涨，科技股领涨"
    before = classify_frame(frame(("in", "95555", body)), region="CN")
    after = classify_frame(frame(("in", "95555", body)), region="CN", rules=load_rules(tmp_path))
    assert before["label"].iloc[0] == "other"
    assert (after["label"].iloc[0], after["reason"].iloc[0]) == ("marketing", "me.bank-news: 财富早间版")


def test_load_rules_user_file_overrides_and_disables_by_id(tmp_path: Path) -> None:
    (tmp_path / "a.toml").write_text(
        '[[rule]]\nid = "zh.reply-short-keyword"\nenabled = false\n\n'
        '[[rule]]\nid = "zh.reply-letter"\nenabled = false\n\n'
        '[[rule]]\nid = "zh.confirmation"\nlabel = "other"\n',
        encoding="utf-8",
    )
    rules = load_rules(tmp_path)
    assert not rules.by_id("zh.reply-short-keyword").enabled
    assert rules.by_id("zh.confirmation").label == "other"
    assert rules.by_id("zh.confirmation").origin.endswith("a.toml")
    result = classify_frame(
        frame(("out", "1069088855", "T"), ("in", "10690123", "退订成功")), region="CN", rules=rules
    )
    assert result["label"].tolist() == ["other", "other"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[[rule]]\nid = "x"\nlabel = "spam"\npattern = "a"\n', "unknown label 'spam'"),
        ('[[rule]]\nid = "x"\nlabel = "other"\npattern = "(a"\n', "invalid regex"),
        ('[[rule]]\nid = "x"\nlabel = "other"\npattern = \'\\d+\'\n', "RE2/vectorized"),
        ('[[rule]]\nid = "x"\nlabel = "other"\npattern = "a(?=b)"\n', "RE2/vectorized"),
        ('[[rule]]\nid = "x"\nlabel = "other"\npattern = "(ab)"\n', "capturing groups"),
        ('[[rule]]\nid = "x"\nlabel = "other"\n', "missing 'pattern'"),
        ('[[rule]]\nid = "x"\nlabel = "other"\npattern = "a"\nsenders = ["robot"]\n', "unknown sender kind"),
        ('[[rule]]\nid = "x"\nlabel = "other"\npattern = "a"\ncolour = "red"\n', "unknown field"),
        ('[[rule]\nid = "x"\n', "not valid TOML"),
    ],
)
def test_load_rules_bad_user_file_is_a_usage_error(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(UsageError) as info:
        load_rules(tmp_path)
    assert message in str(info.value)
    assert info.value.path == str(path)
    assert "\n" not in str(info.value)


def test_read_classify_input_jsonl_keeps_fields_and_maps_sender() -> None:
    text = (
        '{"id": 7, "direction": "out", "sender": "106900", "body": "TD", "extra": null}\n'
        '{"id": 8, "direction": "in", "sender": "95555", "body": "hi"}\n'
    )
    result = read_classify_input(io.StringIO(text), None, None)
    assert list(result.columns) == ["id", "direction", "sender", "body", "extra", "address"]
    assert result["id"].tolist() == ["7", "8"]
    assert result["address"].tolist() == ["106900", "95555"]
    assert result["extra"].tolist() == ["", ""]


def test_read_classify_input_csv_tsv_and_format_detection() -> None:
    csv_text = 'direction,address,body\nin,95555,"hello, world"\n'
    tsv_text = 'direction\taddress\tbody\nout\t26262\tsay "STOP"\n'
    assert read_classify_input(io.StringIO(csv_text), None, None)["body"].tolist() == ["hello, world"]
    assert read_classify_input(io.BytesIO(tsv_text.encode()), None, "-")["body"].tolist() == ['say "STOP"']
    assert read_classify_input(io.StringIO(tsv_text), None, "x.tsv")["direction"].tolist() == ["out"]
    assert read_classify_input(io.StringIO(csv_text), "csv", "x.tsv")["address"].tolist() == ["95555"]


@pytest.mark.parametrize("chunk", [1, 2, 3, 1000])
def test_read_classify_records_in_chunks_keeps_every_field_of_every_message(
    chunk: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fields are turned into Arrow columns every CHUNK messages: a field first seen after a
    chunk boundary, the last partial chunk and a CSV with a repeated column all come out whole."""
    from sms_audit.classifier import reader

    monkeypatch.setattr(reader._Fields, "CHUNK", chunk)
    lines = [
        '{"direction": "in", "address": "95555", "body": "a"}',
        '{"direction": "in", "address": "95556", "body": "b"}',
        "",
        '{"direction": "out", "address": "95557", "body": "c", "timestamp": "2025-01-01T00:00:00Z"}',
        '{"direction": "in", "address": "95558", "body": 4, "sender_kind": "short_code"}',
        '{"direction": "in", "sender": "95559", "body": "e"}',
    ]
    data = reader.read_classify_records(io.StringIO("\n".join(lines) + "\n"), None, None)
    with closing(data):
        frame = data.frame
    assert frame["body"].tolist() == ["a", "b", "c", "4", "e"]
    assert frame["timestamp"].tolist() == ["", "", "2025-01-01T00:00:00Z", "", ""]
    assert frame["sender_kind"].tolist() == ["", "", "", "short_code", ""]
    assert frame["address"].tolist() == ["95555", "95556", "95557", "95558", "95559"]  # sender stands in
    assert frame["body"].dtype.storage == "pyarrow"
    csv_text = "direction,address,body\n" + "".join(f"in,9555{i},x{i}\n" for i in range(5))
    data = reader.read_classify_records(io.StringIO(csv_text), None, "in.csv")
    with closing(data):
        assert data.frame["body"].tolist() == [f"x{i}" for i in range(5)]
        assert data.frame["address"].tolist() == [f"9555{i}" for i in range(5)]


@pytest.mark.parametrize("header", ["direction,address,body,body", "direction,address,note,body,note"])
def test_read_classify_records_refuses_a_repeated_column_name(header: str) -> None:
    """Each message is written back with one field per name: a second column of the same name would
    be lost, or shown beside a label computed from the other one."""
    from sms_audit.classifier import reader

    text = header + "\n" + ",".join(["in", "95555"] + ["x"] * (header.count(",") - 1)) + "\n"
    with pytest.raises(UsageError) as info:
        reader.read_classify_records(io.StringIO(text), None, "in.csv")
    name = "body" if header.endswith("body,body") else "note"
    assert info.value.message == f"the header names {name!r} more than once"
    assert info.value.hint == "give every column its own name"


def test_read_classify_input_missing_fields_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match=r"lacks required field\(s\): body, sender \(or address\)"):
        read_classify_input(io.StringIO("direction,text\nin,hi\n"), None, "in.csv")
    with pytest.raises(UsageError, match="line 2: not valid JSON"):
        read_classify_input(io.StringIO('{"direction": "in"}\n{oops\n'), "jsonl", None)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["in", "out", "draft", "", "IN"]), st.text(max_size=20), st.text(max_size=200)
        ),
        max_size=30,
    )
)
def test_classify_frame_never_raises_and_keeps_rows(rows: list[tuple[str, str, str]]) -> None:
    data = pd.DataFrame(rows, columns=["direction", "address", "body"])
    data["order"] = range(len(data))
    result = classify_frame(data)
    assert len(result) == len(data)
    assert result["order"].tolist() == list(range(len(data)))
    assert set(result["label"]) <= {
        "verification",
        "marketing",
        "unsubscribe-reply",
        "unsubscribe-confirmation",
        "other",
    }
    for name in CLASSIFY_COLUMNS:
        assert not result[name].isna().any()


def test_classify_dev_set_stays_above_a_floor(shared_dev: Path) -> None:
    """dev.tsv is a check, never a target (docs/classifier.md): this floor only catches breakage.

    The issue's targets (macro-F1 0.95, reply precision 0.99, verification F1 0.98) are judged on
    the held-back set; bench/loco_classifier.py is the estimate, dev.tsv the check beside it.
    """
    dev = pd.read_csv(shared_dev, sep="\t", quoting=csv.QUOTE_NONE, dtype=str, keep_default_na=False)
    dev = dev.rename(columns={"sender": "address"})
    parts = [classify_frame(part) for _, part in dev.groupby("lang", sort=False)]
    pred = pd.concat(parts).loc[dev.index, "label"]
    gold = dev["label"]
    f1 = {}
    precision = {}
    for label in sorted(set(gold)):
        tp = int(((pred == label) & (gold == label)).sum())
        p = tp / max(1, int((pred == label).sum()))
        r = tp / max(1, int((gold == label).sum()))
        precision[label] = p
        f1[label] = 2 * p * r / (p + r) if p + r else 0.0
    assert sum(f1.values()) / len(f1) >= 0.90
    assert precision["unsubscribe-reply"] >= 0.99
    assert f1["verification"] >= 0.95
