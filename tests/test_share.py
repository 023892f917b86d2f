"""``sms-audit share``: the findings file holds merchants' facts only, is valid, private, and readable first."""

from __future__ import annotations

import json
import re
import stat
from pathlib import Path
from typing import Any

import pytest
from rich.cells import cell_len
from typer.testing import CliRunner

import sms_audit
from sms_audit.cli import app
from sms_audit.normalize import BUSINESS_KINDS
from sms_audit.share import (
    FORMAT,
    InvalidFindings,
    findings_document,
    load_findings,
    mask_links,
    new_donor_id,
    sniff_findings,
)
from tests.conftest import REPO, SAMPLE_DATA
from tests.report.test_render import validate

ANDROID = SAMPLE_DATA / "android-sms-backup.xml"
IPHONE = SAMPLE_DATA / "iphone-sms.db"
SCHEMA = json.loads((REPO / "docs" / "findings-schema.json").read_text(encoding="utf-8"))
runner = CliRunner()


def _share(tmp_path: Path, *args: str) -> tuple[Any, Path]:
    out = tmp_path / "findings.json"
    result = runner.invoke(app, ["share", *args, "-o", str(out)])
    return result, out


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def test_share_sample_leaks_no_personal_number_code_chat_or_contact_name(tmp_path: Path) -> None:
    result, out = _share(tmp_path, str(ANDROID))
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    values = _strings(json.loads(text))
    frame = sms_audit.classify(sms_audit.read_archives([ANDROID])).frame
    personal = frame.loc[~frame["sender_kind"].isin([k.value for k in BUSINESS_KINDS])]
    numbers: set[str] = set()
    for row in personal.itertuples():
        for address in (row.address, row.address_raw, *row.recipients, *str(row.address).split("~")):
            digits = re.sub(r"[^0-9]", "", address)
            numbers |= {address, digits, digits[-11:]} if len(digits) >= 7 else {address}
    numbers.discard("")
    chats = {str(b).strip() for b in personal["body"]}
    codes = {
        c for b in frame.loc[frame["label"] == "verification", "body"] for c in re.findall(r"[0-9]{4,8}", b)
    }
    raw = ANDROID.read_text(encoding="utf-8")
    names = {n.strip() for a in re.findall(r'contact_name="([^"]*)"', raw) for n in a.split(",")} - {
        "(Unknown)"
    }
    centres = set(re.findall(r'service_center="(\+[0-9]+)"', raw))
    # the archive does have each kind of private data, so the test cannot pass vacuously
    assert (
        len(numbers) >= 4
        and len(chats) >= 20
        and len(codes) >= 5
        and names == {"妈妈", "小王", "小李", "小张"}
    )
    assert "+8613900001111" in numbers and "13900001111" in numbers
    for secret in numbers | codes | names | centres:
        assert secret not in text, secret
    # one-character chats ("T", "N") are also merchant keywords ("T" to 星巴客): every longer one is absent
    assert {c for c in chats if len(c) >= 2} and not [c for c in chats if len(c) >= 2 and c in text]
    assert "1" not in values  # the reply "1" to the trap (a personal mobile) is withheld
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert not list(tmp_path.glob(".sms-audit-*"))  # written atomically: no temporary file left


def test_share_sample_holds_the_merchant_facts(tmp_path: Path) -> None:
    result, out = _share(tmp_path, str(ANDROID))
    assert result.exit_code == 0, result.output
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert doc["format"] == FORMAT and doc["schema_version"] == 1
    assert re.fullmatch(r"[0-9a-f]{32}", doc["donor_id"])
    assert doc["region"] == "CN" and doc["policy"]["name"] == "cn" and doc["timezone"] == "Asia/Shanghai"
    assert doc["period"] == {"first_day": "2025-06-02", "last_day": "2025-11-27"}
    assert [b["brand_display"] for b in doc["brands"]] == [
        "优选商城",
        "乐动健身",
        "快达物流",
        "星巴客",
        "美味外卖",
    ]
    shop = doc["brands"][0]
    assert [n["number"] for n in shop["numbers"]] == [
        "106575550001",
        "10690123456701",
        "10690123456702",
        "106980009999",
    ]
    assert {n["kind"] for n in shop["numbers"]} == {"cn_commercial_port"}
    (unsub,) = shop["unsubscribes"]
    assert (unsub["keyword"], unsub["number"], unsub["status"], unsub["confirmed"]) == (
        "TD",
        "10690123456701",
        "violated",
        False,
    )
    assert unsub["sent_at"] == "2025-09-10T12:15:00.000Z"
    kinds = [m["kind"] for m in unsub["messages_after"]]
    assert kinds == ["within_grace"] + ["violation"] * 5  # codes after the unsubscribe are never shared
    assert [m["via"] for m in unsub["messages_after"]].count("other-number") == 3
    assert (
        unsub["messages_after"][1]["text"]
        == "【优选商城】您有一张50元无门槛券即将过期，戳 yx.example.cn/••• 回T退订"
    )
    starbucks = doc["brands"][3]["unsubscribes"][0]
    assert starbucks["confirmed"] is True and starbucks["confirmed_at"] == "2025-07-20T01:03:00.000Z"
    assert doc["brands"][4]["unsubscribes"][0]["status"] == "re-subscribed"
    # the reply "1" to the suspected trap (a personal mobile) is withheld, and counted
    assert doc["withheld"] == {"unsubscribes": 1, "numbers": 0}
    validate(doc, SCHEMA, SCHEMA)


def test_share_iphone_sample_keeps_short_codes(tmp_path: Path) -> None:
    result, out = _share(tmp_path, str(IPHONE))
    assert result.exit_code == 0, result.output
    doc = json.loads(out.read_text(encoding="utf-8"))
    validate(doc, SCHEMA, SCHEMA)
    assert [(b["subject"], [n["number"] for n in b["numbers"]]) for b in doc["brands"]] == [
        ("acme", ["72345", "72346"]),
        ("bluebottlecoffee", ["24273"]),
    ]
    texts = [m["text"] for b in doc["brands"] for u in b["unsubscribes"] for m in u["messages_after"]]
    assert (
        "ACME Outlet: Final clearance, up to 70% off! Shop acme.example/•••. Reply STOP to opt out" in texts
    )
    assert "+12025550142" not in out.read_text(encoding="utf-8")


def test_share_brand_seen_only_on_personal_numbers_is_withheld(tmp_path: Path) -> None:
    from tests.fixtures_sbr import HEADER, sms

    day = 86_400_000
    t0 = 1_750_000_000_000
    lines = [
        sms("+8613912345678", t0, "【张三工作室】周末特惠，回T退订"),
        sms("+8613912345678", t0 + 60_000, "T", 2),
        sms("+8613912345678", t0 + 3 * day, "【张三工作室】新品上市，回T退订"),
        sms("10690001111", t0, "【优选商城】会员日满199减50，回T退订"),
        sms("10690001111", t0 + 60_000, "TD", 2),
        sms("10690001112", t0 + 5 * day, "【优选商城】双11预售，详询13912345678，回T退订"),
    ]
    archive = tmp_path / "sms.xml"
    archive.write_text(
        HEADER + f'<smses count="{len(lines)}">\n' + "".join(lines) + "</smses>\n", encoding="utf-8"
    )
    report = sms_audit.audit(sms_audit.classify(sms_audit.read_archives([archive])))
    assert {s.brand_display for s in report.summary} == {"张三工作室", "优选商城"}
    doc = findings_document(report, donor_id="0" * 32)
    assert [b["brand_display"] for b in doc["brands"]] == ["优选商城"]
    assert doc["withheld"]["unsubscribes"] == 1
    text = json.dumps(doc, ensure_ascii=False)
    assert "张三" not in text and "13912345678" not in text
    (message,) = doc["brands"][0]["unsubscribes"][0]["messages_after"]
    assert message["number"] == "10690001112" and message["kind"] == "violation"
    assert "详询+86•••••••5678" in message["text"] or "详询•••••••5678" in message["text"], message["text"]


def test_share_preview_prints_tables_and_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "160")
    result = runner.invoke(app, ["share", str(ANDROID), "--preview"])
    assert result.exit_code == 0
    assert "Brands (merchant numbers only)" in result.stdout
    assert "【优选商城】" in result.stdout and "yx.example.cn/•••" in result.stdout
    assert "2025-09-10 12:15" in result.stdout and "violated; not confirmed" in result.stdout
    assert "1 unsubscribe to numbers a private person could hold" in " ".join(result.stdout.split())
    assert "nothing written" in result.stderr
    assert "13900001111" not in result.stdout
    assert not list(tmp_path.iterdir())


def test_share_preview_at_80_columns_shows_brands_whole_and_the_texts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """What would be shared must be readable on a small terminal: brand names whole, the masked
    texts shown (cut with an ellipsis), numbers never cut."""
    monkeypatch.setenv("COLUMNS", "80")
    out = runner.invoke(app, ["share", str(ANDROID), "--preview"]).stdout
    lines = out.splitlines()
    assert all(cell_len(line) <= 80 for line in lines)
    header = next(line for line in lines if line.startswith("Brand ") and "Text (masked)" in line)
    assert header.split() == ["Brand", "What", "Time", "(UTC)", "Number", "Text", "(masked)"]
    violations = [line for line in lines if "  violation  " in line]
    assert len(violations) == 5 and all(line.startswith("【优选商城】") for line in violations)
    assert all("【优选商城】" in line.split("  ")[-1] for line in violations)  # the text column
    assert "106575550001 +3" in out and "…+" not in out


def test_share_preview_with_output_writes_the_previewed_file(tmp_path: Path) -> None:
    result, out = _share(tmp_path, str(ANDROID), "--preview", "--donor-id", "AB" * 16)
    assert result.exit_code == 0, result.output
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert doc["donor_id"] == "ab" * 16
    assert f"donor id {'ab' * 16}" in result.stdout  # the id shown is the id written


def test_share_preview_asks_before_writing_on_a_terminal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sms_audit.cli.league as cli

    monkeypatch.setattr(cli, "_interactive", lambda: True)
    out = tmp_path / "findings.json"
    result = runner.invoke(app, ["share", str(ANDROID), "--preview", "-o", str(out)], input="n\n")
    assert result.exit_code == 0 and not out.exists()
    assert "Write these findings to" in result.stderr and "nothing written" in result.stderr
    result = runner.invoke(app, ["share", str(ANDROID), "--preview", "-o", str(out)], input="y\n")
    assert result.exit_code == 0 and json.loads(out.read_text(encoding="utf-8"))["format"] == FORMAT


def test_share_bad_donor_id_is_a_usage_error() -> None:
    result = runner.invoke(app, ["share", str(ANDROID), "--donor-id", "+8613900001111"])
    assert result.exit_code == 2
    assert result.stderr.startswith("error: not a donor id: '+8613900001111'")
    assert "32 hex digits" in result.stderr


def test_share_without_output_writes_json_to_stdout() -> None:
    result = runner.invoke(app, ["share", str(IPHONE)])
    assert result.exit_code == 0
    assert json.loads(result.stdout)["region"] == "US"


def test_share_damaged_archive_exits_3_with_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "sms.xml"
    bad.write_text("<?xml version='1.0'?><smses count='1'><sms address=", encoding="utf-8")
    result, _out = _share(tmp_path, str(bad))
    assert result.exit_code == 3
    assert "Traceback" not in result.output


def test_donor_ids_are_random() -> None:
    ids = {new_donor_id() for _ in range(100)}
    assert len(ids) == 100 and all(re.fullmatch(r"[0-9a-f]{32}", i) for i in ids)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("戳 yx.example.cn/b 回T退订", "戳 yx.example.cn/••• 回T退订"),
        ("Shop acme.example/outlet. Reply STOP", "Shop acme.example/•••. Reply STOP"),
        ("https://t.cn/A6xYz?u=1&k=2!", "https://t.cn/•••!"),
        ("visit acme.example. Reply", "visit acme.example. Reply"),
        ("www.x.com/ ok", "www.x.com/ ok"),
        ("低至3.5折 v1.2", "低至3.5折 v1.2"),
    ],
)
def test_mask_links_keeps_the_host_and_masks_the_path(text: str, expected: str) -> None:
    assert mask_links(text) == expected


def test_load_findings_reports_what_is_wrong() -> None:
    good = findings_document(sms_audit.audit(sms_audit.classify(sms_audit.read_archives([IPHONE]))))
    assert load_findings(json.dumps(good)) == json.loads(json.dumps(good))
    assert sniff_findings(json.dumps(good).encode()) and not sniff_findings(b"<?xml version='1.0'?>")
    cases: list[tuple[str, str]] = [
        ("{not json", "not valid JSON"),
        ('{"format": "something-else"}', "not an sms-audit findings file"),
        (json.dumps({**good, "schema_version": 2}), "findings schema version 2 is not supported"),
        (json.dumps({**good, "donor_id": "13900001111"}), "$.donor_id: not 32 hex digits"),
        (json.dumps({**good, "brands": [{"subject": "x"}]}), "$.brands[0]: missing field 'brand'"),
        (json.dumps({**good, "messages_checked": "17"}), "$.messages_checked: expected integer, got str"),
    ]
    for text, message in cases:
        with pytest.raises(InvalidFindings) as caught:
            load_findings(text, "f.json")
        assert caught.value.path == "f.json"
        assert message in caught.value.message, caught.value.message
    with pytest.raises(InvalidFindings) as caught:
        load_findings(json.dumps({**good, "schema_version": 2}))
    assert caught.value.hint == "upgrade sms-audit"
