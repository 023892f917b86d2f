"""Renderers: JSON against the documented schema, jsonl/csv contract, Markdown escaping, redaction."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, datetime
from typing import Any

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sms_audit.normalize import normalize_address
from sms_audit.output import OutputFormat, format_time
from sms_audit.report.analysis import Report, analyze
from sms_audit.report.policy import PRESETS
from sms_audit.report.records import finding_record
from sms_audit.report.redact import MERCHANT_NUMBERS, mask_address, redact_report, redact_text
from sms_audit.report.render import FINDING_COLUMNS, document, md_block, md_escape, render
from tests.conftest import REPO
from tests.report.conftest import make_frame, scenario_rows

SCHEMA = json.loads((REPO / "docs" / "report-schema.json").read_text(encoding="utf-8"))
FIXED = datetime(2026, 1, 1, tzinfo=UTC)


def validate(value: Any, schema: dict[str, Any], root: dict[str, Any] = SCHEMA, path: str = "$") -> None:
    """The subset of JSON Schema 2020-12 that docs/report-schema.json uses (no dependency needed)."""
    if "$ref" in schema:
        name = schema["$ref"].removeprefix("#/$defs/")
        return validate(value, root["$defs"][name], root, path)
    if "const" in schema:
        assert value == schema["const"], f"{path}: {value!r} != {schema['const']!r}"
    if "enum" in schema:
        assert value in schema["enum"], f"{path}: {value!r} not in {schema['enum']}"
    types = schema.get("type")
    if types is not None:
        names = types if isinstance(types, list) else [types]
        kinds = {
            "string": str,
            "integer": int,
            "boolean": bool,
            "object": dict,
            "array": list,
            "null": type(None),
            "number": (int, float),
        }
        ok = any(
            isinstance(value, kinds[n]) and not (n == "integer" and isinstance(value, bool)) for n in names
        )
        assert ok, f"{path}: {value!r} is not {names}"
    if isinstance(value, str) and "pattern" in schema:
        assert re.search(schema["pattern"], value), f"{path}: {value!r} !~ {schema['pattern']}"
    if isinstance(value, int) and not isinstance(value, bool) and "minimum" in schema:
        assert value >= schema["minimum"], f"{path}: {value} < {schema['minimum']}"
    if isinstance(value, dict):
        for key in schema.get("required", []):
            assert key in value, f"{path}: missing {key}"
        props = schema.get("properties", {})
        if schema.get("additionalProperties") is False:
            extra = set(value) - set(props)
            assert not extra, f"{path}: unexpected {sorted(extra)}"
        if "required" in schema and props:
            assert list(value) == list(props), f"{path}: key order differs from the schema"
        for key, sub in props.items():
            if key in value:
                validate(value[key], sub, root, f"{path}.{key}")
    if isinstance(value, list) and "items" in schema:
        for i, item in enumerate(value):
            validate(item, schema["items"], root, f"{path}[{i}]")
    return None


@pytest.fixture
def report(scenario: pd.DataFrame) -> Report:
    return analyze(
        scenario, PRESETS["cn"], tz="Asia/Shanghai", timezone_source="main zone of region CN", region="CN"
    )


def _render(report: Report, fmt: OutputFormat, **kwargs: Any) -> str:
    buffer = io.StringIO()
    render(report, fmt, buffer, generated_at=FIXED, **kwargs)
    return buffer.getvalue()


def test_render_json_matches_schema(report: Report) -> None:
    doc = json.loads(_render(report, OutputFormat.JSON))
    validate(doc, SCHEMA)
    assert doc["schema_version"] == 1 and doc["generated_at"] == "2026-01-01T00:00:00.000Z"
    assert doc["policy"]["name"] == "cn" and doc["policy"]["kind"] == "heuristic"
    assert doc["timezone"] == {"name": "Asia/Shanghai", "source": "main zone of region CN"}
    assert doc["counts"]["violations"] == 2 and doc["counts"]["traps_replied"] == 1
    assert [f["kind"] for f in doc["findings"]] == [
        "within_grace",
        "violation",
        "violation",
        "non_marketing_after_unsubscribe",
        "confirmation",
    ]
    assert [t["message_id"] for t in doc["traps"]] == ["trap-1"]
    assert [e["unsubscribe_message_id"] for e in doc["ledger"]] == ["shop-td", "star-t", "cake-r", "luck-td"]
    assert doc["summary"][0]["numbers"] == ["1069012345670", "10690123456799"]


def test_render_json_schema_also_fits_empty_report() -> None:
    validate(json.loads(_render(analyze(make_frame([]), PRESETS["us"]), OutputFormat.JSON)), SCHEMA)


def test_render_schema_validator_rejects_wrong_documents(report: Report) -> None:
    doc = document(report, generated_at=FIXED)
    bad = json.loads(json.dumps({**doc, "generated_at": "yesterday"}, default=str))
    with pytest.raises(AssertionError):
        validate(bad, SCHEMA)


def test_render_jsonl_one_finding_per_line(report: Report) -> None:
    lines = _render(report, OutputFormat.JSONL).splitlines()
    rows = [json.loads(line) for line in lines]
    assert len(rows) == 6 and all(list(r) == list(FINDING_COLUMNS) for r in rows)
    violation = rows[1]
    assert violation["kind"] == "violation" and violation["timestamp"] == "2025-03-05T02:00:00.000Z"
    assert violation["local_time"] == "2025-03-05T10:00:00+08:00"
    assert violation["unsubscribed_at"] == "2025-03-01T03:00:00.000Z"
    assert violation["grace_deadline"] == "2025-03-02T03:00:00.000Z"
    assert rows[-1]["kind"] == "trap" and rows[-1]["replied"] is True


def test_finding_records_with_time_text_hold_the_times_as_written(report: Report) -> None:
    """JSON/JSONL/CSV take the times as text made column-wise at analysis: the same text as
    formatting each datetime, for every finding (traps and their replies included)."""
    times = ("timestamp", "unsubscribed_at", "grace_deadline", "replied_at")
    for item in report.findings:
        moments, texts = finding_record(item, report), finding_record(item, report, time_text=True)
        assert {k: v for k, v in texts.items() if k not in times} == {
            k: v for k, v in moments.items() if k not in times
        }
        for name in times:
            assert texts[name] == (None if moments[name] is None else format_time(moments[name])), name
        assert isinstance(moments["timestamp"], datetime) and texts["timestamp"].endswith("Z")
    assert any(finding_record(f, report, time_text=True)["replied_at"] for f in report.traps)


def test_render_csv_header_and_formula_guard() -> None:
    rows = scenario_rows()
    rows[4] = {**rows[4], "body": '=HYPERLINK("http://x")'}
    text = _render(analyze(make_frame(rows), PRESETS["cn"], tz="Asia/Shanghai"), OutputFormat.CSV)
    parsed = list(csv.reader(io.StringIO(text)))
    assert tuple(parsed[0]) == FINDING_COLUMNS and len(parsed) == 7
    bodies = [r[FINDING_COLUMNS.index("body")] for r in parsed[1:]]
    assert '\'=HYPERLINK("http://x")' in bodies


def test_render_markdown_escapes_hostile_text() -> None:
    rows = scenario_rows()
    rows[4] = {**rows[4], "body": "```\n<script>alert(1)</script>\n# owned | x\n\x1b[31m"}
    rows[0] = {**rows[0], "brand_display": "优选<b>|商城", "brand": "优选<b>|商城"}
    for r in rows[:6]:
        if r.get("brand") == "优选商城":
            r.update(brand="优选<b>|商城", brand_display="优选<b>|商城")
    md = _render(analyze(make_frame(rows), PRESETS["cn"], tz="Asia/Shanghai"), OutputFormat.MD)
    assert "<script>" not in md.replace("````text\n```\n<script>", "")  # only inside the fence
    fence = md.index("````text\n```\n<script>alert(1)</script>\n# owned | x\n\\x1b[31m\n````")
    assert fence > 0
    assert "【优选\\<b\\>\\|商城】" in md
    assert "\x1b" not in md
    assert md.startswith("# sms-audit report")
    assert "## What was checked" in md and "does not mean" in md


def test_render_markdown_helpers() -> None:
    assert md_escape("a|b*c_<i>&amp; [x](javascript:y)") == "a\\|b\\*c\\_\\<i\\>\\&amp; \\[x\\](javascript:y)"
    assert md_escape("2025-09-10 20:15 (UTC+8).") == "2025-09-10 20:15 (UTC+8)."
    assert md_escape("two\nlines") == "two\\\\nlines"
    assert md_block("x ```` y").startswith("`````text\n")


def test_render_table_footer_and_details(report: Report, monkeypatch: pytest.MonkeyPatch) -> None:
    text = _render(report, OutputFormat.TABLE, details=True)
    assert "Who kept messaging after you unsubscribed" in text
    assert "【优选商城】" in text and "violated" in text and "re-subscribed" in text
    assert "messages after the unsubscribe" in text and "Unsubscribe ledger" in text
    assert "Suspected unsubscribe traps" in text
    assert "(times in Asia/Shanghai)" in text and "Caveats and sources: -v." in text
    assert 'does not mean "compliant"' not in text  # the caveats are for -v, Markdown and JSON
    buffer = io.StringIO()
    render(report, OutputFormat.TABLE, buffer, verbose=True)
    assert 'does not mean "compliant"' in buffer.getvalue()
    assert "Times are shown in Asia/Shanghai" in buffer.getvalue()
    plain = _render(report, OutputFormat.TABLE)
    assert "messages after the unsubscribe" not in plain and "Suspected unsubscribe traps" in plain


# --- redaction ------------------------------------------------------------------------------------


def test_redact_text_numbers_codes_names() -> None:
    assert redact_text("联系13912345678") == "联系•••••••5678"
    assert redact_text("【优选商城】验证码 482913，5分钟内有效") == "【优选商城】验证码 ••••••，5分钟内有效"
    assert redact_text("482913是您的验证码") == "••••••是您的验证码"
    assert redact_text("Your code is 4829") == "Your code is ••••"
    assert redact_text("尊敬的张三先生：您好") == "尊敬的••先生：您好"
    assert redact_text("尊敬的用户：您好") == "尊敬的用户：您好"
    assert redact_text("王女士您好") == "•女士您好"
    assert redact_text("Dear John Smith, hi") == "Dear •••, hi"
    assert redact_text("收件人：李四，电话") == "收件人：•••，电话"
    assert redact_text("code 7781", verification=True) == "code ••••"
    assert redact_text("你的码 7781", verification=True) == "你的码 ••••"
    assert mask_address("+8613912345678") == "+•••••••••5678"
    assert mask_address("95555") == "95555" and mask_address("acme") == "acme"


_SECRETS = ("13912345678", "8613912345678", "482913")


@pytest.mark.parametrize(
    "fmt", [OutputFormat.TABLE, OutputFormat.MD, OutputFormat.JSON, OutputFormat.JSONL, OutputFormat.CSV]
)
def test_redact_every_format(report: Report, fmt: OutputFormat, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "240")
    clean = _render(report, fmt, details=True)
    assert any(secret in clean for secret in _SECRETS)
    text = _render(redact_report(report), fmt, details=True)
    for secret in _SECRETS:
        assert secret not in text, (fmt, secret)
    assert "5678" in text  # last 4 digits kept
    assert "优选商城" in text  # brands are not personal data
    assert "1069012345670" in text  # nor are the merchant's ports


def test_redact_keeps_ids_stable(report: Report) -> None:
    redacted = redact_report(report)
    assert [f.finding_id for f in redacted.findings] == [f.finding_id for f in report.findings]
    assert [f.key for f in redacted.findings] == [f.key for f in report.findings]
    assert json.loads(_render(redacted, OutputFormat.JSON))["redacted"] is True


def test_redact_text_leaves_words_after_code_keywords() -> None:
    assert redact_text("Your code is ready") == "Your code is ready"
    assert redact_text("promo code: SAVE20") == "promo code: ••••••"
    assert redact_text("Barcode 12345678 attached") == "Barcode ••••5678 attached"  # a long number


@settings(max_examples=200, deadline=None)
@given(
    st.text(alphabet=st.sampled_from(list("0123456789 +-abcXYZ验证码尊敬的先生女士：,code\n")), max_size=60)
)
def test_redact_text_idempotent_and_only_merchant_numbers_stay(text: str) -> None:
    once = redact_text(text)
    assert redact_text(once) == once
    # A 7+ digit run survives only when it is a business number (106 port, 400/800, 95xxx):
    # "10600000" stays by design, a personal number never does.
    for run in re.finditer(r"\+?[0-9](?:[ \-]?[0-9]){6,}", once):
        if re.fullmatch(r"(?:19|20)[0-9]{2}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])", run.group(0)):
            continue  # an ISO date is kept (explanations' local times)
        assert normalize_address(run.group(0)).kind in MERCHANT_NUMBERS, run.group(0)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            'you replied "TD" to 13912345678 at 2025-09-10T20:15:00+08:00; ended 2025-09-11T20:15:00+08:00',
            'you replied "TD" to •••••••5678 at 2025-09-10T20:15:00+08:00; ended 2025-09-11T20:15:00+08:00',
        ),
        ("on 2025-09-10 20:15 call 139-1234-5678", "on 2025-09-10 20:15 call •••-••••-5678"),
        ("call 555-123-4567 or +86 139 1234 5678", "call •••-•••-4567 or +•• ••• •••• 5678"),
        ("order 2025-13-45-77 ref", "order ••••-••-45-77 ref"),  # not a date: a 13th month
        ("id 12025-09-10", "id •••••-09-10"),  # a date's digits at the end of a longer number
    ],
)
def test_redact_text_keeps_iso_dates_and_masks_numbers_grouped_any_other_way(
    text: str, expected: str
) -> None:
    assert redact_text(text) == expected


def test_redacted_trap_subject_is_masked_like_its_number(report: Report) -> None:
    """A trap's subject is its sender's number: masked wherever the finding is shown."""
    redacted = redact_report(report)
    (trap,) = redacted.traps
    (record,) = [r for r in redacted.findings.records() if r["kind"] == "trap"]
    assert trap.subject == record["subject"] == trap.message.address == record["address"]
    assert trap.subject != report.traps[0].subject and trap.subject.endswith(report.traps[0].subject[-4:])


def test_redact_text_keeps_merchant_numbers_and_masks_personal_ones() -> None:
    assert redact_text("10600000") == "10600000"
    assert redact_text("回TD退订 1069012345") == "回TD退订 1069012345"
    assert redact_text("联系 13912345678") == "联系 •••••••5678"
    assert redact_text("call +1 415 555 0134") == "call +• ••• ••• 0134"
