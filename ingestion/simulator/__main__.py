"""Command line: `python -m ingestion.simulator generate --network ci --out ./data`, and `publish` to Kafka.

`generate` prints progress, the time taken and the process's peak resident memory (the bench scale must run in
bounded memory); `publish` sends the network's sensor stream (with its configured faults) to a broker.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path

from .network import generate_network, iter_sensor_readings
from .publisher import DEFAULT_TOPIC, ensure_topic, publish_sensor_readings


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m ingestion.simulator", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    for name, help_text in (
        ("generate", "write landing extracts and ground truth"),
        ("publish", "publish the network's sensor readings to Kafka"),
    ):
        command = commands.add_parser(name, help=help_text)
        command.add_argument("--network", default="ci", help="network name (ci, demo, bench, public) or YAML path")
        command.add_argument("--seed", type=int, default=None, help="override the network's seed")
        command.add_argument("--catalog", type=Path, default=None, help="catalog directory (default: repo catalog/)")
    generate = commands.choices["generate"]
    generate.add_argument(
        "--out", type=Path, default=Path(os.environ.get("NORTHSTAR_DATA_ROOT", "data")), help="data root"
    )
    publish = commands.choices["publish"]
    publish.add_argument("--bootstrap-servers", required=True, help="host:port of the Kafka broker")
    publish.add_argument("--topic", default=os.environ.get("NORTHSTAR_SENSOR_TOPIC", DEFAULT_TOPIC))
    publish.add_argument("--partitions", type=int, default=4, help="partitions if the topic must be created")
    return parser


def peak_rss_mib() -> tuple[float, float]:
    """Peak resident set size of this process and of its largest worker process so far (Linux: ru_maxrss in KiB)."""
    return (
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
    )


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    started = time.perf_counter()
    if args.command == "generate":
        summary = generate_network(
            args.network, args.out, catalog_dir=args.catalog, seed=args.seed, progress=lambda line: print(line, flush=True)
        )
        main_rss, worker_rss = peak_rss_mib()
        print(
            f"network {summary.network} (seed {summary.seed}): {len(summary.plants)} plants, "
            f"{sum(len(a) for a in summary.assets.values())} assets, {summary.days} days, "
            f"{len(summary.extracts)} extract files, {summary.sensor_readings:,} sensor readings -> {args.out} "
            f"in {time.perf_counter() - started:.1f} s, peak RSS {main_rss:,.0f} MiB"
            + (f" (largest plant worker {worker_rss:,.0f} MiB)" if worker_rss else "")
        )
    else:
        created = ensure_topic(args.bootstrap_servers, args.topic, args.partitions)
        print(f"topic {args.topic}: {'created' if created else 'exists'}")
        sent = publish_sensor_readings(
            iter_sensor_readings(args.network, catalog_dir=args.catalog, seed=args.seed),
            args.bootstrap_servers,
            args.topic,
            progress=lambda count: print(f"published {count} readings", flush=True),
        )
        elapsed = time.perf_counter() - started
        print(f"published {sent} readings to {args.topic} in {elapsed:.1f} s ({sent / elapsed:,.0f} msg/s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
