"""Benchmark the text-format importers (vMessage, Super Backup, CSV) against the SB&R XML importer.

The same N synthetic SMS (fictional numbers; Chinese marketing, replies, an emoji now and then) are
written in every format, then each importer's ``read_records`` runs over its file in this process:

* ``vmsg-qp``: vMessage with quoted-printable bodies and soft line breaks (OPPO/Windows Phone shape);
* ``vmsg-raw``: vMessage with raw bodies and CRLF (MediaTek shape);
* ``super-backup``: Super Backup ``<allsms>`` XML, read record by record with the recovering scanner;
* ``csv-qq``: a GBK QQ同步助手 CSV (encoding detection, content matching, two passes);
* baseline ``sbr_xml``: the SB&R importer (lxml iterparse) on the same messages.

Prints records/s for each and its ratio to the baseline. Usage:
``python bench/bench_text_formats.py [N]`` (default 100000).
"""

from __future__ import annotations

import csv
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sms_audit.importers import ReadOptions, ReadStats, android_xml, csv_export, super_backup, vmessage

CN = timedelta(hours=8)


def messages(n: int) -> list[tuple[str, int, str, int]]:
    """(address, date ms, body, AOSP type)."""
    out = []
    for i in range(n):
        if i % 7 == 0:
            out.append((f"1069{i % 977:08d}", 1700000000000 + i * 1000, "TD", 2))
        else:
            body = f"【优选商城】会员日第{i}场，满199减50 戳 yx.example.cn/s/{i} 回T退订" + (
                "😀" if i % 50 == 0 else ""
            )
            out.append((f"1069{i % 977:08d}", 1700000000000 + i * 1000, body, 1))
    return out


def local(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC) + CN


def qp(body: str) -> str:
    tokens = [chr(b) if 0x20 <= b < 0x7F and b != 0x3D else f"={b:02X}" for b in body.encode()]
    lines, line = [], ""
    for token in tokens:
        if len(line) + len(token) > 74:
            lines.append(line + "=")
            line = ""
        line += token
    return "\n".join([*lines, line])


def write_all(folder: Path, rows: list[tuple[str, int, str, int]]) -> dict[str, Path]:
    paths = {name: folder / name for name in ("sbr.xml", "qp.vmsg", "raw.vmsg", "super.xml", "qq.csv")}
    with open(paths["sbr.xml"], "w", encoding="utf-8") as out:
        out.write(
            f"<?xml version='1.0' encoding='UTF-8' standalone='yes' ?>\n<smses count=\"{len(rows)}\">\n"
        )
        for address, ms, body, kind in rows:
            text = body.replace("😀", "&#55357;&#56832;")
            out.write(
                f'  <sms protocol="0" address="{address}" date="{ms}" type="{kind}" body="{text}" read="1" />\n'
            )
        out.write("</smses>\n")
    for name, raw in (("qp.vmsg", False), ("raw.vmsg", True)):
        nl = "\r\n" if raw else "\n"
        with open(paths[name], "w", encoding="utf-8", newline="") as out:
            for address, ms, body, kind in rows:
                box = "SENDBOX" if kind == 2 else "INBOX"
                text = body if raw else qp(body)
                out.write(
                    f"BEGIN:VMSG{nl}VERSION:1.1{nl}BEGIN:VCARD{nl}TEL:{address}{nl}END:VCARD{nl}BEGIN:VBODY{nl}"
                    f"X-BOX:{box}{nl}X-READ:READ{nl}Date:{local(ms):%Y/%m/%d %H:%M:%S}{nl}"
                    f"Subject;ENCODING=QUOTED-PRINTABLE;CHARSET=UTF-8:{text}{nl}END:VBODY{nl}END:VMSG{nl}"
                )
    with open(paths["super.xml"], "w", encoding="utf-8") as out:
        out.write(f'<?xml version="1.0" encoding="UTF-8"?>\n<allsms count="{len(rows)}">\n')
        for address, ms, body, kind in rows:
            text = body.replace("😀", "&#55357;&#56832;")
            out.write(
                f'\t<sms address="{address}" time="x" date="{ms}" type="{kind}" body="{text}" read="1" '
                f'service_center="" name="" />\n'
            )
        out.write("</allsms>")
    with open(paths["qq.csv"], "w", encoding="gb18030", newline="") as out:
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(["内容", "姓名", "号码", "时间", "类型"])
        for address, ms, body, kind in rows:
            writer.writerow(
                [body, "", address, f"{local(ms):%Y/%m/%d %H:%M:%S}", "发件箱" if kind == 2 else "收件箱"]
            )
    return paths


def measure(module: object, path: Path) -> tuple[int, float]:
    start = time.perf_counter()
    n = sum(1 for _ in module.read_records(path, ReadOptions(), ReadStats()))  # type: ignore[attr-defined]
    return n, time.perf_counter() - start


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    rows = messages(n)
    with tempfile.TemporaryDirectory() as tmp:
        paths = write_all(Path(tmp), rows)
        base_n, base_s = measure(android_xml, paths["sbr.xml"])
        base_rate = base_n / base_s
        print(f'baseline "sbr_xml": {base_n} records in {base_s:.2f} s, {base_rate:,.0f} records/s')
        for label, module, name in (
            ("vmsg-qp", vmessage, "qp.vmsg"),
            ("vmsg-raw", vmessage, "raw.vmsg"),
            ("super-backup", super_backup, "super.xml"),
            ("csv-qq", csv_export, "qq.csv"),
        ):
            got, seconds = measure(module, paths[name])
            rate = got / seconds
            size = paths[name].stat().st_size / 1e6
            print(
                f"{label}: {got} records ({size:.1f} MB) in {seconds:.2f} s, {rate:,.0f} records/s | "
                f'baseline "sbr_xml" {base_rate:,.0f} records/s | {rate / base_rate:.2f}x'
            )


if __name__ == "__main__":
    main()
