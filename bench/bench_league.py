"""Benchmark the league on Dask: raw archives and findings files, synchronous vs LocalCluster 1 and 2 workers.

Makes N donated archives with ``bench/make_donations.py`` (or reuses them), then computes the league

* from the raw archives (read → classify → audit → findings, per archive) and
* from findings files (written by the first raw run, as each archive's task finishes),

each with the synchronous scheduler (baseline: one process, no cluster) and with a LocalCluster of 1
and of 2 worker processes (bound to 127.0.0.1, no dashboard; the league is given the cluster's
address, the code path of any existing cluster). Prints archives/s, the speed-up over the
synchronous baseline and the peak resident memory per worker, then checks the claims:

* every league is identical (raw == findings; synchronous == 1 worker == 2 workers);
* the planted behaviour is recovered: Spearman rank correlation >= 0.9 between each merchant's
  measured ignore rate and its planted ignore probability, over merchants seen by >= K donors.

Usage: ``python bench/bench_league.py [--archives N] [--out DIR] [--raw-sample M]`` (default 1,000
archives); ``--small`` is the CI run: 20 archives from a population of 10 merchants (seed 16).
``--raw-sample M`` runs the raw-archive baselines (synchronous, 1 worker) on the first M archives only,
when the full run does not fit the time at hand; its speed-ups are then per archive/s.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import make_donations

from sms_audit.league import SYNCHRONOUS, League, league, load_input

MIN_DONORS = 3
SPEARMAN_MIN = 0.9


@dataclass
class Run:
    path: str
    scheduler: str
    archives: int
    result: League

    @property
    def rate(self) -> float:
        return self.archives / self.result.seconds

    @property
    def peak_mib(self) -> float:
        return max(self.result.peak_memory.values(), default=0) / 2**20


def load_and_save(index: int, source: str, rules: Any, *, findings: str) -> dict[str, Any]:
    """:func:`load_input`, and the donation's findings document written to ``findings`` (bench only)."""
    donation = load_input(index, source, rules)
    if donation["doc"] is not None:
        target = Path(findings) / (Path(source).stem + ".json")
        target.write_text(json.dumps(donation["doc"], ensure_ascii=False), encoding="utf-8")
    return donation


def spearman(a: list[float], b: list[float]) -> float:
    """Spearman's rank correlation (average ranks for ties), without scipy."""
    import numpy as np
    import pandas as pd

    ra = pd.Series(a, dtype="float64").rank().to_numpy()
    rb = pd.Series(b, dtype="float64").rank().to_numpy()
    return float(np.corrcoef(ra, rb)[0, 1])


def recovery(result: League, truth: dict[str, Any]) -> tuple[int, float]:
    """(merchants compared, Spearman of measured ignore rate vs planted probability)."""
    planted = {m["brand"]: m["ignore_probability"] for m in truth["merchants"]}
    pairs = [
        (row["ignore_rate"], planted[row["brand_display"]])
        for row in result.rows
        if row["donors"] >= MIN_DONORS and row["brand_display"] in planted
    ]
    if len(pairs) < 3:
        return len(pairs), float("nan")
    return len(pairs), spearman([p[0] for p in pairs], [p[1] for p in pairs])


def run_all(count: int, out: Path, *, seed: int, merchants: int, raw_sample: int | None) -> dict[str, Any]:
    from distributed import LocalCluster

    truth_file = out / "ground-truth.json"
    archives = out / "archives"
    truth = json.loads(truth_file.read_text(encoding="utf-8")) if truth_file.exists() else None
    if truth is None or len(truth["archives"]) != count or truth["seed"] != seed:
        print(f"making {count} archives in {archives} ...", file=sys.stderr)
        truth = make_donations.make_donations(count, out, seed=seed, merchants=merchants)
    raw_all = sorted(str(p) for p in archives.glob("*.xml"))
    raw_some = raw_all[: raw_sample or len(raw_all)]
    findings = out / "findings"
    findings.mkdir(exist_ok=True)
    for old in findings.glob("*.json"):
        old.unlink()
    runs: list[Run] = []

    def measure(path: str, name: str, inputs: list[str], scheduler: str, **kw: Any) -> None:
        print(f"{path} / {name}: {len(inputs)} inputs ...", file=sys.stderr)
        result = league(inputs, scheduler=scheduler, min_donors=MIN_DONORS, **kw)
        runs.append(Run(path, name, len(inputs), result))
        print("  " + result.summary(), file=sys.stderr)

    for workers in (2, 1):
        with LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
            silence_logs=logging.ERROR,
        ) as cluster:
            name = f"LocalCluster {workers} worker{'s' if workers > 1 else ''}"
            # findings first: a worker's peak memory only grows, and the raw path needs more
            if workers == 2:
                measure(
                    "raw",
                    name,
                    raw_all,
                    cluster.scheduler_address,
                    load=partial(load_and_save, findings=str(findings)),
                )
                saved = sorted(str(p) for p in findings.glob("*.json"))
                measure("findings", name, saved, cluster.scheduler_address)
            else:
                measure("findings", name, saved, cluster.scheduler_address)
                measure("raw", name, raw_some, cluster.scheduler_address)
    measure("findings", "synchronous", saved, SYNCHRONOUS)
    measure("raw", "synchronous", raw_some, SYNCHRONOUS)
    return {"truth": truth, "runs": runs, "raw_all": len(raw_all), "raw_some": len(raw_some)}


def report(outcome: dict[str, Any]) -> dict[str, Any]:
    runs: list[Run] = outcome["runs"]
    base = {r.path: r for r in runs if r.scheduler == "synchronous"}
    print()
    header = f"{'input':<9} {'scheduler':<24} {'archives':>8} {'seconds':>9} {'archives/s':>11} {'speed-up':>9} {'peak MiB/worker':>16}"
    print(header)
    print("-" * len(header))
    order = {"synchronous": 0, "LocalCluster 1 worker": 1, "LocalCluster 2 workers": 2}
    for r in sorted(runs, key=lambda r: (r.path != "raw", order[r.scheduler])):
        speed = r.rate / base[r.path].rate
        print(
            f"{r.path:<9} {r.scheduler:<24} {r.archives:>8} {r.result.seconds:>9.1f} {r.rate:>11.2f} "
            f"{speed:>8.2f}x {r.peak_mib:>16.0f}"
        )
    full = [r for r in runs if r.archives == outcome["raw_all"]]
    identical_full = all(r.result.rows == full[0].result.rows for r in full)
    sample = [r for r in runs if r.path == "raw" and r.archives == outcome["raw_some"]]
    identical_sample = all(r.result.rows == sample[0].result.rows for r in sample)
    merchants, rho = recovery(full[0].result, outcome["truth"])
    print()
    print(
        f"identical leagues: {'yes' if identical_full else 'NO'} ({len(full)} runs on all "
        f"{outcome['raw_all']} archives: raw and findings, every scheduler)"
        + (
            f"; {'yes' if identical_sample else 'NO'} ({len(sample)} raw runs on the first {outcome['raw_some']})"
            if outcome["raw_some"] != outcome["raw_all"]
            else ""
        )
    )
    print(
        f"planted behaviour recovered: Spearman {rho:.3f} between measured ignore rate and planted "
        f"probability over {merchants} merchants seen by >= {MIN_DONORS} donors "
        f"({'>=' if rho >= SPEARMAN_MIN else 'below'} {SPEARMAN_MIN})"
    )
    return {
        "identical": identical_full and identical_sample,
        "spearman": rho,
        "merchants": merchants,
        "brands": len(full[0].result.rows),
        "errors": sum(len(r.result.errors) for r in runs),
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--archives", type=int, default=1000)
    parser.add_argument("--out", type=Path, default=Path("bench-donations"))
    parser.add_argument("--small", action="store_true", help="the CI run: 20 archives, 10 merchants, seed 16")
    parser.add_argument("--raw-sample", type=int, default=None, metavar="M")
    args = parser.parse_args(argv)
    count, merchants, seed = (20, 10, 16) if args.small else (args.archives, 300, 15)
    started = time.perf_counter()
    outcome = run_all(count, args.out, seed=seed, merchants=merchants, raw_sample=args.raw_sample)
    checks = report(outcome)
    print(f"(whole bench: {time.perf_counter() - started:.0f} s)")
    return checks


if __name__ == "__main__":
    result = main()
    sys.exit(0 if result["identical"] and result["spearman"] >= SPEARMAN_MIN and not result["errors"] else 1)
