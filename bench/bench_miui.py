"""Benchmark the MIUI backup importer: messages/s and peak memory at two backup sizes.

Generates synthetic ``短信(com.android.mms).bak`` files (fictional 106 ports and +86 mobiles) with
``tests/fixtures_miui.py`` — the test extra must be installed (``pip install -e '.[test]'``) — and
reads them with

* ``sms-audit``: the streaming importer's records (header + ustar reader + protobuf wire reader, one
  record in memory at a time; what the pipeline normalises in vectorised batches);
* baseline ``protobuf-in-memory``: tarfile finds the member, its bytes are read whole and parsed by
  the official protobuf runtime (C/upb), iterating the SMS without building records.

Each reader runs in a fresh process so its peak memory (growth of VmHWM, Linux) is its own.
Usage: ``python bench/bench_miui.py [N_SMALL] [N_LARGE]``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def write_bak(path: Path, n: int) -> None:
    from tests.fixtures_miui import Sms, bak, message_tar, sync_root

    rows = []
    for i in range(n):
        date = 1_700_000_000_000 + i * 60_000
        if i % 9 == 0:
            rows.append(Sms(f"+86138{i % 10_000:08d}", date, f"晚上一起吃饭吗？第{i}次 🍲", type=1 + (i % 2)))
        else:
            rows.append(
                Sms(
                    f"1069{i % 977:08d}",
                    date,
                    f"【优选商城】会员日第{i}场，满199减50，戳 yx.example.cn/s/{i} 回TD退订",
                )
            )
    path.write_bytes(bak(message_tar(sync_root(rows))))


CHILD = r"""
import sys, tarfile, time
from pathlib import Path

def hwm_kb():
    # VmHWM, not ru_maxrss: ru_maxrss survives exec, so it would report the parent's peak
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))

which, path = sys.argv[1], Path(sys.argv[2])
before = hwm_kb()
start = time.perf_counter()
n = 0
if which == "sms-audit":
    from sms_audit.importers import ReadOptions, ReadStats, miui_backup
    for _ in miui_backup.read_records(path, ReadOptions(region="CN"), ReadStats()):
        n += 1
else:
    from tests.fixtures_miui import _classes
    root = _classes()["SyncRoot"]()
    with open(path, "rb") as f:
        while f.readline() != b"ANDROID BACKUP\n":
            pass
        for _ in range(3):
            f.readline()
        with tarfile.open(fileobj=f, mode="r|") as tar:
            for member in tar:
                if member.name.endswith("miui_bak/_tmp_bak"):
                    root.ParseFromString(tar.extractfile(member).read())
                    break
    for sms in root.mmsSms.sms:
        n += 1
elapsed = time.perf_counter() - start
print(n, elapsed, (hwm_kb() - before) / 1024)
"""


def measure(which: str, path: Path) -> tuple[int, float, float]:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, which, str(path)], capture_output=True, text=True, check=True, cwd=REPO
    ).stdout.split()
    return int(out[0]), float(out[1]), float(out[2])


def main() -> None:
    sizes = [int(a) for a in sys.argv[1:3]] or [50_000, 250_000]
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            path = Path(tmp) / f"sms-{n}.bak"
            write_bak(path, n)
            size_mb = os.path.getsize(path) / 1e6
            count, secs, mem = measure("sms-audit", path)
            bcount, bsecs, bmem = measure("protobuf-in-memory", path)
            assert count == bcount == n, (count, bcount, n)
            print(
                f"miui {n:,} SMS ({size_mb:,.1f} MB .bak): sms-audit {count / secs:,.0f} msg/s ({secs:.2f} s, "
                f'peak +{mem:,.0f} MB) | baseline "protobuf-in-memory" {bcount / bsecs:,.0f} SMS/s '
                f"({bsecs:.2f} s, peak +{bmem:,.0f} MB) | {bsecs / secs:.2f}x"
            )


if __name__ == "__main__":
    main()
