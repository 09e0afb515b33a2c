"""The benchmark report: measurements with their limit, naive peer, ratios and targets."""

from __future__ import annotations

import json
import platform
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any


@dataclass
class Measurement:
    name: str
    value: float
    unit: str
    limit: float | None = None  # the raw library doing the same work
    limit_name: str = ""
    naive: float | None = None  # a straightforward implementation of the same work
    naive_name: str = ""
    target: str = ""
    met: bool | None = None
    notes: str = ""

    @property
    def ratio_to_limit(self) -> float | None:
        return self.value / self.limit if self.limit else None

    @property
    def ratio_to_naive(self) -> float | None:
        return self.value / self.naive if self.naive else None


def add(report: dict[str, Any], m: Measurement) -> None:
    row = asdict(m)
    row["ratio_to_limit"] = m.ratio_to_limit
    row["ratio_to_naive"] = m.ratio_to_naive
    report.setdefault("measurements", []).append(row)
    print(f"  {m.name}: {m.value:,.1f} {m.unit}"
          + (f"  (limit {m.limit:,.1f}, ratio {m.ratio_to_limit:.2f})" if m.limit else "")
          + (f"  (naive {m.naive:,.1f}, x{m.ratio_to_naive:.1f})" if m.naive else "")
          + (f"  target {m.target}: {'met' if m.met else 'NOT met'}" if m.target else ""), flush=True)


def new_report(scale: str) -> dict[str, Any]:
    return {"started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "scale": scale,
            "machine": {"python": platform.python_version(), "cpu_count": __import__("os").cpu_count(),
                        "platform": platform.platform()}, "measurements": []}


def write(report: dict[str, Any], out_dir: Path) -> tuple[Path, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path = out_dir / "report.json"
    json_path.write_text(json.dumps(report, indent=2, default=str))
    lines = ["| measurement | value | limit (raw library) | ratio | naive peer | vs naive | target | met |",
             "|---|---|---|---|---|---|---|---|"]
    for m in report["measurements"]:
        fmt = lambda v: f"{v:,.1f}" if isinstance(v, (int, float)) else "-"  # noqa: E731
        ratio = f"{m['ratio_to_limit']:.2f}" if m.get("ratio_to_limit") else "-"
        naive = f"x{m['ratio_to_naive']:.1f}" if m.get("ratio_to_naive") else "-"
        met = {True: "yes", False: "no", None: "-"}[m.get("met")]
        lines.append(f"| {m['name']} | {fmt(m['value'])} {m['unit']} | {fmt(m.get('limit'))} {m.get('limit_name', '')} "
                     f"| {ratio} | {fmt(m.get('naive'))} {m.get('naive_name', '')} | {naive} | {m.get('target', '')} | {met} |")
    md = out_dir / "report.md"
    md.write_text("\n".join(lines) + "\n")
    return json_path, md
