"""Benchmark the SB&R XML importer: messages/s and peak memory at two file sizes.

Generates synthetic backups (fictional numbers; every 50th record an MMS with a 256 KiB base64
photo, every 200th body an emoji as surrogate references), then reads them with

* ``sms-audit``: the streaming importer (charref repair filter + lxml iterparse + full records);
* baseline ``stdlib-iterparse``: ``xml.etree.ElementTree.iterparse`` with ``elem.clear()``, which
  builds no records and cannot parse the surrogate references (they are written as real emoji for
  the baseline's copy of the file).

Peak memory is the process's max RSS growth while reading (``resource``); flat memory means the
larger file does not need more. Usage: ``python bench/bench_import.py [N_SMALL] [N_LARGE]``.
"""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import tempfile
from pathlib import Path

PHOTO = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="


def write_backup(path: Path, n: int, *, surrogates: bool) -> None:
    photo = PHOTO * (256 * 1024 // len(PHOTO))
    emoji = "&#55357;&#56832;" if surrogates else "😀"
    with open(path, "w", encoding="utf-8") as out:
        out.write("<?xml version='1.0' encoding='UTF-8' standalone='yes' ?>\n")
        out.write(f'<smses count="{n}" backup_set="bench" backup_date="1764500000000" type="full">\n')
        for i in range(n):
            date = 1700000000000 + i * 1000
            if i % 50 == 49:
                out.write(
                    f'  <mms date="{date}" msg_box="1" address="+1202555{i % 100:04d}" date_sent="{date // 1000}" '
                    f'm_id="m{i}" m_type="132" ct_t="application/vnd.wap.multipart.related">\n'
                    f'    <parts><part seq="0" ct="image/png" data="{photo}" />'
                    f'<part seq="1" ct="text/plain" text="photo {i}" /></parts>\n'
                    f'    <addrs><addr address="+1202555{i % 100:04d}" type="137" charset="106" /></addrs>\n'
                    "  </mms>\n"
                )
            else:
                body = f"【优选商城】会员日第{i}场，满199减50 回T退订" + (emoji if i % 200 == 0 else "")
                out.write(
                    f'  <sms protocol="0" address="1069{i % 977:08d}" date="{date}" type="{1 + (i % 7 == 0)}" '
                    f'subject="null" body="{body}" toa="null" sc_toa="null" service_center="null" read="1" '
                    f'status="-1" locked="0" date_sent="0" sub_id="1" />\n'
                )
        out.write("</smses>\n")


CHILD = r"""
import resource, sys, time
from pathlib import Path
which, path = sys.argv[1], Path(sys.argv[2])
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.perf_counter()
n = 0
if which == "sms-audit":
    from sms_audit.importers import ReadOptions, ReadStats, android_xml
    for _ in android_xml.read(path, ReadOptions(region="CN"), ReadStats()):
        n += 1
else:
    import xml.etree.ElementTree as ET
    for _, elem in ET.iterparse(path, events=("end",)):
        if elem.tag in ("sms", "mms"):
            n += 1
            elem.clear()
elapsed = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(n, elapsed, (peak - before) / 1024)
"""


def measure(which: str, path: Path) -> tuple[int, float, float]:
    """Run one reader in a fresh process so peak memory is its own."""
    out = subprocess.run(
        [sys.executable, "-c", CHILD, which, str(path)],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[1],
    ).stdout.split()
    return int(out[0]), float(out[1]), float(out[2])


def main() -> None:
    sizes = [int(a) for a in sys.argv[1:3]] or [20_000, 100_000]
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            ours = Path(tmp) / f"sms-{n}.xml"
            base = Path(tmp) / f"sms-{n}-utf8.xml"
            write_backup(ours, n, surrogates=True)
            write_backup(base, n, surrogates=False)
            size_mb = os.path.getsize(ours) / 1e6
            count, secs, mem = measure("sms-audit", ours)
            bcount, bsecs, bmem = measure("stdlib-iterparse", base)
            print(
                f"import {n:,} records ({size_mb:,.0f} MB): sms-audit {count / secs:,.0f} msg/s "
                f'({secs:.2f} s, peak +{mem:,.0f} MB) | baseline "stdlib-iterparse" {bcount / bsecs:,.0f} rec/s '
                f"({bsecs:.2f} s, peak +{bmem:,.0f} MB) | {bsecs / secs:.2f}x"
            )
            gc.collect()


if __name__ == "__main__":
    main()
