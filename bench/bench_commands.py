"""Whole commands as a user runs them, each beside a baseline doing the same work, in one run.

    python bench/bench_commands.py                 # 200k and 1M messages (about 30 min on 2 cores)
    python bench/bench_commands.py --sizes 10000,100000 --rounds 1 --json out.json

For every size it writes a deterministic archive (bench/make_archive.py: SB&R XML, an iOS sms.db
and an MMS-heavy SB&R file), then times, as separate processes, alternating command and baseline
(``--rounds`` rounds, median wall time; peak RSS of the process from wait4):

* ``import`` of the SB&R file into a new store (read+store and labelling also reported apart, from
  ``-v``) against ``lxml-iterparse`` (a bare streaming parse of the same file that builds nothing);
  the same for the MMS-heavy file; re-importing the same file; an overlapping backup (the same
  messages plus 1 % new ones, as a new "full" backup is);
* ``import`` of the iOS ``sms.db`` against ``sqlite3-fetch`` (a bare fetch of the same columns) and,
  when it is installed, ``mvt-ios check-iocs``-free ``mvt`` SMS module;
* ``messages`` (store and archive) to /dev/null against ``jsonl-write`` (the same rows, already in
  Python, written with ``json.dumps``), and the time to the first line;
* ``report`` on the store and on the archive;
* ``classify`` of a JSONL export against ``jsonl-read-write`` (read and write the same lines);
* ``sms-audit --help`` and ``sms-audit report --help``.

It prints a table and, with ``--json``, writes it. Figures are wall seconds and MB.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
PYTHON = sys.executable
CLI = [PYTHON, "-m", "sms_audit"]


@dataclass
class Row:
    size: int
    work: str
    seconds: float
    peak_mb: float
    baseline: str = ""
    baseline_seconds: float | None = None
    extra: dict[str, float] = field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        return None if not self.baseline_seconds else self.seconds / self.baseline_seconds


def run(
    argv: list[str], *, env: dict[str, str] | None = None, stdout: int | None = subprocess.DEVNULL
) -> tuple[float, float, str]:
    """(wall seconds, peak RSS MB, stderr) of one process."""
    started = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=stdout, stderr=subprocess.PIPE, env=env, text=True)
    assert proc.stderr is not None
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - started
    if proc.returncode not in (0, 1):
        raise RuntimeError(f"{argv} exited {proc.returncode}: {err[-2000:]}")
    return seconds, usage.ru_maxrss / 1024, err


def first_line_seconds(argv: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
    assert proc.stdout is not None
    proc.stdout.readline()
    seconds = time.perf_counter() - started
    proc.kill()
    proc.wait()
    return seconds


def median_pair(
    rounds: int, command: callable, baseline: callable | None
) -> tuple[tuple[float, float, str], tuple[float, float, str] | None]:  # type: ignore[valid-type]
    """Alternate command and baseline ``rounds`` times; the median of each (by time)."""
    ours, theirs = [], []
    for _ in range(rounds):
        ours.append(command())
        if baseline is not None:
            theirs.append(baseline())
    pick = lambda xs: sorted(xs, key=lambda x: x[0])[len(xs) // 2]
    return pick(ours), (pick(theirs) if theirs else None)


LXML_BASELINE = """
import sys
from lxml import etree
n = 0
for _, e in etree.iterparse(sys.argv[1], events=("end",), tag=("sms", "mms"), huge_tree=True):
    n += 1
    e.clear(keep_tail=False)
    p = e.getparent()
    while e.getprevious() is not None:
        del p[0]
print(n)
"""

SQLITE_BASELINE = """
import sqlite3, sys
conn = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
n = 0
for row in conn.execute(
    "SELECT m.ROWID, m.guid, m.text, m.attributedBody, m.handle_id, m.service, m.is_from_me, m.date, "
    "m.error, m.cache_roomnames, m.associated_message_type, m.item_type, m.group_action_type, "
    "m.group_title, m.is_system_message, m.is_service_message, m.cache_has_attachments, h.id "
    "FROM message m LEFT JOIN handle h ON h.ROWID = m.handle_id ORDER BY m.ROWID"):
    n += 1
print(n)
"""

JSONL_WRITE_BASELINE = """
import json, sqlite3, sys
# the rows the store holds, already fetched: what a plain JSONL writer would do with them
conn = sqlite3.connect(sys.argv[1])
rows = conn.execute("SELECT m.*, l.* FROM messages m JOIN labels l ON l.id = m.id ORDER BY timestamp_us").fetchall()
names = [d[0] for d in conn.execute("SELECT m.*, l.* FROM messages m JOIN labels l ON l.id = m.id LIMIT 0").description]
with open(sys.argv[2], "w") as out:
    for row in rows:
        out.write(json.dumps(dict(zip(names, row)), ensure_ascii=False) + "\\n")
"""

JSONL_READ_WRITE_BASELINE = """
import json, sys
with open(sys.argv[1], encoding="utf-8") as src, open(sys.argv[2], "w") as out:
    for line in src:
        out.write(json.dumps(json.loads(line), ensure_ascii=False) + "\\n")
"""


def overlapping(source: Path, target: Path, extra: int) -> None:
    """The same backup again with ``extra`` new messages at the end (a newer "full" backup)."""
    sys.path.insert(0, str(HERE))
    from make_archive import generate, write_sbr_xml  # type: ignore[import-not-found]

    with source.open(encoding="utf-8") as src, target.open("w", encoding="utf-8") as out:
        for line in src:
            if line.startswith("</smses>"):
                break
            out.write(line)
        with tempfile.SpooledTemporaryFile(mode="w+") as body:
            write_sbr_xml(generate(extra, seed=99), body)
            body.seek(0)
            for line in body:
                if line.startswith(("  <sms", "  <mms", "    ", "  </mms")):
                    out.write(line)
        out.write("</smses>\n")


def bench_size(n: int, rounds: int, work: Path, env: dict[str, str]) -> list[Row]:
    rows: list[Row] = []
    maker = [PYTHON, str(HERE / "make_archive.py"), "-n", str(n)]
    sbr, ios, mms = work / f"sms-{n}.xml", work / f"sms-{n}.db", work / f"mms-{n}.xml"
    # each file made when missing (a --work folder kept from an interrupted run may hold some)
    for path, options in (
        (sbr, []),
        (ios, ["--format", "ios"]),
        (mms, ["--mms-share", "0.05", "--image-kib", "96"]),
    ):
        if not path.exists():
            partial = path.with_name(path.name + ".part")
            subprocess.run([*maker, *options, "-o", str(partial)], check=True, stderr=subprocess.DEVNULL)
            partial.replace(path)
    store = work / "store.sqlite"

    def fresh(path: Path, *extra: str) -> tuple[float, float, str]:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{store}{suffix}").unlink(missing_ok=True)
        return run([*CLI, "--db", str(store), "-v", "import", *extra, str(path)], env=env)

    def phases(err: str) -> dict[str, float]:
        import re

        found = re.search(r": read ([0-9.]+) s, label ([0-9.]+) s", err)
        return {"read_s": float(found.group(1)), "label_s": float(found.group(2))} if found else {}

    lxml = lambda path: lambda: run([PYTHON, "-c", LXML_BASELINE, str(path)], env=env)
    for name, path in (("SB&R import", sbr), ("MMS-heavy SB&R import", mms)):
        ours, base = median_pair(rounds, lambda path=path: fresh(path), lxml(path))
        assert base is not None
        rows.append(
            Row(
                n,
                f"{name} ({path.stat().st_size / 1e6:.0f} MB)",
                ours[0],
                ours[1],
                "lxml-iterparse",
                base[0],
                phases(ours[2]),
            )
        )
    fresh(sbr)
    again = median_pair(
        rounds, lambda: run([*CLI, "--db", str(store), "-q", "import", str(sbr)], env=env), None
    )[0]
    rows.append(Row(n, "re-import, same file", again[0], again[1]))
    overlap = work / f"sms-{n}-overlap.xml"
    if not overlap.exists():
        overlapping(sbr, overlap, max(1, n // 100))
    first = rows[0].seconds

    def overlap_import() -> tuple[float, float, str]:
        fresh(sbr)
        return run([*CLI, "--db", str(store), "-q", "import", str(overlap)], env=env)

    result = median_pair(rounds, overlap_import, None)[0]
    rows.append(Row(n, "import of an overlapping backup (+1 %)", result[0], result[1], "first import", first))

    base_fetch = lambda: run([PYTHON, "-c", SQLITE_BASELINE, str(ios)], env=env)
    ours, base = median_pair(rounds, lambda: fresh(ios), base_fetch)
    assert base is not None
    rows.append(Row(n, "iOS sms.db import", ours[0], ours[1], "sqlite3-fetch", base[0], phases(ours[2])))
    if shutil.which("mvt-ios"):
        mvt = median_pair(
            1,
            lambda: run(["mvt-ios", "check-backup", "--output", str(work / "mvt"), str(ios)], env=env),
            None,
        )[0]
        rows.append(Row(n, "mvt SMS module (same sms.db)", mvt[0], mvt[1]))

    fresh(sbr)
    out = work / "baseline.jsonl"
    ours, base = median_pair(
        rounds,
        lambda: run(
            [*CLI, "--db", str(store), "-q", "messages", "--format", "jsonl", "-o", os.devnull], env=env
        ),
        lambda: run([PYTHON, "-c", JSONL_WRITE_BASELINE, str(store), str(out)], env=env),
    )
    assert base is not None
    first_line = first_line_seconds([*CLI, "--db", str(store), "-q", "messages", "--format", "jsonl"], env)
    rows.append(
        Row(
            n,
            "messages (store) → /dev/null",
            ours[0],
            ours[1],
            "jsonl-write",
            base[0],
            {"first_line_s": first_line},
        )
    )
    direct = median_pair(
        rounds,
        lambda: run([*CLI, "-q", "messages", str(sbr), "--format", "jsonl", "-o", os.devnull], env=env),
        None,
    )[0]
    rows.append(Row(n, "messages FILE.xml → /dev/null", direct[0], direct[1]))
    direct_ios = median_pair(
        rounds,
        lambda: run([*CLI, "-q", "messages", str(ios), "--format", "jsonl", "-o", os.devnull], env=env),
        base_fetch,
    )
    rows.append(
        Row(
            n,
            "messages sms.db → /dev/null",
            direct_ios[0][0],
            direct_ios[0][1],
            "sqlite3-fetch",
            direct_ios[1][0] if direct_ios[1] else None,
        )
    )
    report = median_pair(
        rounds,
        lambda: run(
            [*CLI, "--db", str(store), "-q", "report", "--format", "json", "-o", os.devnull], env=env
        ),
        None,
    )[0]
    rows.append(Row(n, "report (store)", report[0], report[1]))
    report_direct = median_pair(
        rounds,
        lambda: run([*CLI, "-q", "report", str(sbr), "--format", "json", "-o", os.devnull], env=env),
        None,
    )[0]
    rows.append(Row(n, "report FILE.xml", report_direct[0], report_direct[1], "SB&R import", rows[0].seconds))

    export = work / f"export-{n}.jsonl"
    if not export.exists():
        run([*CLI, "--db", str(store), "-q", "messages", "--format", "jsonl", "-o", str(export)], env=env)
    ours, base = median_pair(
        rounds,
        lambda: run([*CLI, "-q", "classify", str(export), "--format", "jsonl", "-o", os.devnull], env=env),
        lambda: run([PYTHON, "-c", JSONL_READ_WRITE_BASELINE, str(export), str(out)], env=env),
    )
    assert base is not None
    rows.append(Row(n, "classify JSONL → JSONL", ours[0], ours[1], "jsonl-read-write", base[0]))
    return rows


def bench_help(rounds: int, env: dict[str, str]) -> list[Row]:
    out = []
    for argv in (["--help"], ["report", "--help"], ["import", "--help"]):
        seconds = statistics.median(run([*CLI, *argv], env=env)[0] for _ in range(max(3, rounds)))
        out.append(Row(0, "sms-audit " + " ".join(argv), seconds, 0.0))
    return out


def show(rows: list[Row]) -> str:
    lines = [f"{'size':>9}  {'work':<44} {'s':>8} {'MB':>7}  {'baseline':<18} {'s':>8} {'ratio':>6}  extra"]
    for r in rows:
        base = (
            f"{r.baseline:<18} {r.baseline_seconds:8.2f} {r.ratio:6.2f}"
            if r.baseline_seconds
            else f"{'':<18} {'':>8} {'':>6}"
        )
        extra = ", ".join(f"{k} {v:.2f}" for k, v in r.extra.items())
        lines.append(f"{r.size:>9,}  {r.work:<44} {r.seconds:8.2f} {r.peak_mb:7.0f}  {base}  {extra}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="200000,1000000", help="comma-separated message counts")
    parser.add_argument("--rounds", type=int, default=3, help="alternated rounds per measurement (median)")
    parser.add_argument("--work", type=Path, help="folder for the generated archives (kept between runs)")
    parser.add_argument("--json", type=Path, help="write the table as JSON here")
    args = parser.parse_args(argv)
    work = args.work or Path(tempfile.mkdtemp(prefix="sms-audit-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMS_AUDIT_")}
    env["SMS_AUDIT_CONFIG_DIR"] = str(work / "config")  # no user rules, no user config
    rows = bench_help(args.rounds, env)
    print(show(rows), flush=True)
    for size in (int(s) for s in args.sizes.split(",")):
        size_rows = bench_size(size, args.rounds, work, env)
        print(show(size_rows).split("\n", 1)[1], flush=True)
        rows.extend(size_rows)
    if args.json:
        args.json.write_text(json.dumps([{**asdict(r), "ratio": r.ratio} for r in rows], indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
