"""Markdown tables from ``bench.scheduler --json`` outputs: ``python -m bench.scheduler.report FILE.json...``.

Instances run by several solvers become one row with a column group per solver; the last
lines give each solver's mean gap to the best-known values.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def _name(path: str) -> str:
    p = Path(path)
    return p.stem if p.suffix != ".json" else p.name


def table(rows: list[dict]) -> str:
    solvers: list[str] = []
    by_instance: dict[str, dict[str, dict]] = {}
    rows = [dict(r, solver=r["solver"].split(":")[0]) for r in rows]  # "auto:cpsat" -> "auto"
    for r in rows:
        solver = r["solver"]
        if solver not in solvers:
            solvers.append(solver)
        by_instance.setdefault(r["instance"], {})[solver] = r
    head = ["instance", "best known"]
    for s in solvers:
        head += [f"{s} makespan", "gap %", "changeover", "s", "valid"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for instance, per in by_instance.items():
        bks = next((r.get("best_known") for r in per.values() if r.get("best_known") is not None), None)
        cells = [_name(instance), "-" if bks is None else str(bks)]
        for s in solvers:
            r = per.get(s)
            if r is None:
                cells += ["-"] * 5
                continue
            gap = r.get("gap_pct")
            cells += [
                "none found" if r.get("makespan") is None else str(r["makespan"]),
                "-" if gap is None else f"{gap:.2f}",
                "-" if r.get("changeover_total") is None else str(r["changeover_total"]),
                f"{r.get('seconds', 0):.1f}",
                "yes" if r.get("valid") else "NO",
            ]
        lines.append("| " + " | ".join(cells) + " |")
    for s in solvers:
        gaps = [r["gap_pct"] for r in rows if r["solver"] == s and r.get("gap_pct") is not None]
        if gaps:
            lines.append(f"\nMean gap {s}: **{sum(gaps) / len(gaps):.2f}%** over {len(gaps)} instances.")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    rows: list[dict] = []
    for path in argv if argv is not None else sys.argv[1:]:
        rows += json.loads(Path(path).read_text())
    print(table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
