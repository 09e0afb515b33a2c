"""`python -m bench [--scale small|full] [--only NAME ...]`: run every benchmark side by side and write the report."""

from __future__ import annotations

import argparse
import importlib
import time
from pathlib import Path

from bench.report import new_report, write

BENCHMARKS = ["stream_ingest", "extract_ingest", "kpi_build", "quality_overhead"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", default="small", choices=["small", "full"])
    parser.add_argument("--only", nargs="*", default=None)
    args = parser.parse_args()
    report = new_report(args.scale)
    for name in args.only or BENCHMARKS:
        try:
            module = importlib.import_module(f"bench.{name}")
        except ModuleNotFoundError:
            print(f"(benchmark {name} not available yet)")
            continue
        start = time.perf_counter()
        module.run(report, args.scale)
        print(f"  [{name} took {time.perf_counter() - start:.0f}s]", flush=True)
    json_path, md_path = write(report, Path(__file__).parent / "results")
    print()
    print(md_path.read_text())
    print(f"report: {json_path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
