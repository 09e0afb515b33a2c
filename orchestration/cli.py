"""The ``northstar`` command: the demo (the main job on the embedded default), the apps, and the catalog tools.

``northstar demo`` generates a simulated plant network, starts a Kafka-compatible broker on 127.0.0.1, publishes the
sensor stream, materializes every asset through Dagster (the ``northstar_main`` job) and prints a summary.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from contextlib import ExitStack
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
DAGSTER_PORT = 3000
STREAMLIT_PORT = 8501


def _say(message: str) -> None:
    print(f"[northstar] {message}", flush=True)


def run_demo(network: str, data_root: Path) -> int:
    """Generate, publish, materialize through Dagster, summarize. Returns the process exit code."""
    os.environ["NORTHSTAR_DATA_ROOT"] = str(data_root)
    os.environ.setdefault("DAGSTER_HOME", str(data_root / "dagster"))
    Path(os.environ["DAGSTER_HOME"]).mkdir(parents=True, exist_ok=True)

    from ingestion.broker import EmbeddedBroker
    from ingestion.settings import load_settings
    from ingestion.simulator import ensure_topic, generate_network, iter_sensor_readings, publish_sensor_readings

    settings = load_settings()
    started = time.monotonic()
    _say(f"data root: {data_root}")
    _say(f"1/4 generating the '{network}' plant network (deterministic)")
    summary = generate_network(network, data_root, progress=lambda message: _say(f"    {message}"))
    assets = sum(len(a) for a in summary.assets.values())
    _say(f"    {len(summary.plants)} plants, {assets} assets, {summary.sensor_readings:,} sensor readings")

    with ExitStack() as stack:
        bootstrap = settings.kafka.bootstrap_servers
        if bootstrap is None:
            broker = stack.enter_context(EmbeddedBroker(log_path=data_root / "broker.log"))
            bootstrap = broker.bootstrap_servers
            # Only for this run: the embedded broker dies with it, so the address must not outlive it.
            os.environ["NORTHSTAR_KAFKA_BOOTSTRAP_SERVERS"] = bootstrap
            stack.callback(os.environ.pop, "NORTHSTAR_KAFKA_BOOTSTRAP_SERVERS", None)
            _say(f"2/4 embedded Kafka-compatible broker (Tansu) on {bootstrap}")
        else:
            _say(f"2/4 using Kafka at {bootstrap}")
        client_config = load_settings().kafka.client_config()
        servers = client_config.pop("bootstrap_servers")
        ensure_topic(servers, settings.kafka.topic)
        sent = publish_sensor_readings(
            iter_sensor_readings(network),
            servers,
            settings.kafka.topic,
            producer_config=client_config,
            progress=lambda n: _say(f"    published {n:,} readings"),
        )
        _say(f"    published {sent:,} readings to {settings.kafka.topic}")

        _say("3/4 materializing every asset through Dagster (job northstar_main)")
        result = _execute_main_job()
    _say("    broker stopped" if settings.kafka.bootstrap_servers is None else "")
    _say(f"4/4 summary (took {time.monotonic() - started:.0f}s)")
    print(render_summary(data_root, result))
    if not result.success:
        _say("the run FAILED; see the Dagster UI (make apps) for the step logs")
        return 1
    _say(f"open the apps: make apps  ->  Dagster http://127.0.0.1:{DAGSTER_PORT}  Streamlit http://127.0.0.1:{STREAMLIT_PORT}")
    return 0


def _execute_main_job():
    import dagster as dg

    from orchestration.definitions import MAIN_JOB, defs

    job = defs.resolve_job_def(MAIN_JOB)
    with dg.DagsterInstance.get() as instance:
        # INFO keeps step starts, dbt's progress lines and failures on the console; DEBUG engine events go to the UI.
        run_config = {"loggers": {"console": {"config": {"log_level": "INFO"}}}}
        return job.execute_in_process(instance=instance, raise_on_error=False, run_config=run_config)


def render_summary(data_root: Path, result) -> str:
    """OEE and its factors per plant and month (from the published KPI table), row counts per layer, check results,
    data locations."""
    import dagster as dg
    import duckdb

    from ingestion.delta import row_count
    from quality.publication import read_status

    lines = []
    published = data_root / "published.duckdb"
    status = read_status(published)
    if status.status == "never":
        lines.append("  nothing published yet")
    else:
        as_of = f"{status.data_as_of:%Y-%m-%d %H:%M:%S %Z}" if status.data_as_of else "never (nothing passed the checks yet)"
        lines.append(f"  published data as of {as_of} (latest attempt: {status.status})")
        for reason in status.reasons[:10] if status.status == "blocked" else []:
            lines.append(f"    blocked by {reason.get('check')}: {reason.get('expectation')} "
                         f"failing={reason.get('failing')} {reason.get('error') or ''}".rstrip())
    if published.exists():
        with duckdb.connect(str(published), read_only=True) as con:
            # The values come from the published KPI table, computed once by dbt from the catalog's formulas.
            try:
                rows = con.execute(
                    """
                    select plant_id, strftime(period_start, '%Y-%m') as month,
                           max(value) filter (where kpi_id = 'oee'),
                           max(value) filter (where kpi_id = 'availability'),
                           max(value) filter (where kpi_id = 'effectiveness'),
                           max(value) filter (where kpi_id = 'quality_ratio')
                    from main_marts.kpi_values
                    where entity_level = 'plant' and period_level = 'month'
                    group by all order by plant_id, month
                    """
                ).fetchall()
            except duckdb.Error as exc:
                rows = []
                lines.append(f"  published KPI table not readable: {exc}")
            if rows:
                lines.append(f"  {'plant':<10} {'month':<8} {'OEE':>7} {'avail.':>7} {'effect.':>7} {'quality':>7}")
                for plant_id, month, *values in rows:
                    cells = " ".join(f"{v:7.1%}" if v is not None else "    n/a" for v in values)
                    lines.append(f"  {plant_id:<10} {month:<8} {cells}")
            counts = con.execute(
                """
                select schema_name, table_name, estimated_size from duckdb_tables()
                order by schema_name, table_name
                """
            ).fetchall()
        lines.append("  published tables (rows):")
        for schema, table, n in counts:
            lines.append(f"    {schema}.{table}: {n:,}")
    lines.append("  bronze Delta tables (rows):")
    for table_dir in sorted((data_root / "lake" / "bronze").glob("*/*")):
        lines.append(f"    {table_dir.relative_to(data_root / 'lake')}: {row_count(str(table_dir)):,}")
    checks = [e for e in result.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"]
    passed = sum(1 for e in checks if e.event_specific_data.passed)
    warned = [e.event_specific_data for e in checks
              if not e.event_specific_data.passed and e.event_specific_data.severity == dg.AssetCheckSeverity.WARN]
    lines.append(f"  asset checks: {passed} passed, {len(warned)} warnings, {len(checks) - passed - len(warned)} failed")
    for e in checks:
        ev = e.event_specific_data
        if not ev.passed:
            label = "WARN  " if ev.severity == dg.AssetCheckSeverity.WARN else "FAILED"
            lines.append(f"    {label} {ev.asset_key.to_user_string()} {ev.check_name}")
    lines.append(f"  data lives in {data_root}: landing/, lake/ (Delta), warehouse.duckdb (dbt), published.duckdb (apps), dagster/")
    return "\n".join(lines)


def run_apps(data_root: Path) -> int:
    """Start the Dagster UI and the Streamlit app on 127.0.0.1 until Ctrl-C."""
    env = {**os.environ, "NORTHSTAR_DATA_ROOT": str(data_root), "DAGSTER_HOME": str(data_root / "dagster")}
    Path(env["DAGSTER_HOME"]).mkdir(parents=True, exist_ok=True)
    bin_dir = Path(sys.executable).parent
    procs = [
        subprocess.Popen(
            [str(bin_dir / "dagster-webserver"), "-h", "127.0.0.1", "-p", str(DAGSTER_PORT), "-m", "orchestration.definitions"],
            env=env, cwd=REPO_ROOT,
        ),
        subprocess.Popen(
            [str(bin_dir / "streamlit"), "run", str(REPO_ROOT / "apps" / "streamlit_app.py"), "--server.address",
             "127.0.0.1", "--server.port", str(STREAMLIT_PORT), "--server.headless", "true"],
            env=env, cwd=REPO_ROOT,
        ),
    ]
    _say(f"Dagster UI   http://127.0.0.1:{DAGSTER_PORT}")
    _say(f"Scorecard    http://127.0.0.1:{STREAMLIT_PORT}   (Ctrl-C stops both)")
    try:
        while all(p.poll() is None for p in procs):
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGINT)
        for p in procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="northstar", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="run the main job on the embedded default (simulated network, local broker)")
    demo.add_argument("--network", default=os.environ.get("NORTHSTAR_NETWORK", "demo"), help="ci | demo | path to YAML")
    apps = sub.add_parser("apps", help="start the Dagster UI and the Streamlit app on 127.0.0.1")
    for p in (demo, apps):
        p.add_argument("--data-root", type=Path, default=Path(os.environ.get("NORTHSTAR_DATA_ROOT", "./data")))
    catalog = sub.add_parser("catalog", help="catalog tools (validate, render)")
    catalog.add_argument("args", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    if args.command == "demo":
        return run_demo(args.network, args.data_root.resolve())
    if args.command == "apps":
        return run_apps(args.data_root.resolve())
    from catalog.cli import main as catalog_main

    return catalog_main(args.args)


if __name__ == "__main__":
    sys.exit(main())
