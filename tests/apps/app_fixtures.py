"""Test support for the app: its paths, and a small stand-in for the dbt warehouse with hand-checkable numbers.

The warehouse holds both OEE marts for three plants.

Every row keeps the ISO 22400 identities (PBT = POT - PDOT = APT + AUST + ADET + ADOT, PQ = GQ + SQ + RQ).
`oee_plant_day` is the sum of `oee_asset_shift` per plant and shift date, as the dbt mart defines it.
Singapore's first day is a long planned stop followed by a breakdown (PBT 19,800 s, nothing produced), so an
average of daily OEEs (41.8%) differs from the correct ratio of sums (48.2%).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import pandas as pd

DAY_1 = date(2026, 6, 1)
DAY_2 = date(2026, 6, 2)
REPO_ROOT = Path(__file__).resolve().parents[2]
APP_ENTRYPOINT = REPO_ROOT / "apps" / "streamlit_app.py"
KPI_CATALOG_DIR = REPO_ROOT / "catalog" / "kpis"

PLANT_NAMES = {"DE-STR": "Stuttgart", "MX-MTY": "Monterrey", "SG-SIN": "Singapore"}

# plant, asset, shift, date, start hour (UTC), pot, pdot, apt, aust, adet, adot, pq, gq, sq, rq, pri_pq_s
ASSET_SHIFT_ROWS = [
    ("DE-STR", "P1", "F", DAY_1, 4, 28800, 1800, 24000, 1200, 1200, 600, 800, 780, 15, 5, 21600),
    ("DE-STR", "P2", "F", DAY_1, 4, 28800, 1800, 21000, 1800, 3000, 1200, 1000, 940, 50, 10, 18000),
    ("DE-STR", "P1", "S", DAY_1, 12, 28800, 1800, 25000, 600, 900, 500, 850, 840, 8, 2, 22950),
    ("DE-STR", "P2", "S", DAY_1, 12, 28800, 1800, 18000, 1800, 6000, 1200, 900, 870, 25, 5, 16200),
    ("DE-STR", "P1", "F", DAY_2, 4, 28800, 1800, 26000, 300, 500, 200, 900, 890, 8, 2, 24300),
    ("DE-STR", "P2", "F", DAY_2, 4, 28800, 1800, 23000, 1200, 2000, 800, 1150, 1120, 25, 5, 20700),
    ("MX-MTY", "M1", "T1", DAY_1, 13, 43200, 3600, 30000, 2400, 4800, 2400, 1400, 1330, 50, 20, 28000),
    ("MX-MTY", "M1", "T1", DAY_2, 13, 43200, 3600, 36000, 1200, 1800, 600, 1700, 1680, 15, 5, 34000),
    ("SG-SIN", "S1", "A", DAY_1, 0, 28800, 9000, 0, 0, 19800, 0, 0, 0, 0, 0, 0),
    ("SG-SIN", "S1", "A", DAY_2, 0, 28800, 1800, 25000, 600, 900, 500, 1200, 1188, 10, 2, 22800),
]

_KPI_COLUMNS = """
    apt_s / nullif(pbt_s, 0) as availability,
    pri_pq_s / nullif(apt_s, 0) as effectiveness,
    gq / nullif(pq, 0) as quality_ratio,
    case when pbt_s = 0 then null when apt_s = 0 or pq = 0 then 0 else pri_pq_s / pbt_s * gq / pq end as oee
"""


def asset_shift_records() -> list[dict[str, object]]:
    records = []
    for plant_id, asset, shift, day, hour, pot, pdot, apt, aust, adet, adot, pq, gq, sq, rq, pri_pq in ASSET_SHIFT_ROWS:
        pbt = pot - pdot
        assert pbt == apt + aust + adet + adot and pq == gq + sq + rq, (plant_id, asset, shift, day)
        started_at = datetime(day.year, day.month, day.day, hour)
        records.append(
            {
                "plant_id": plant_id,
                "plant_name": PLANT_NAMES[plant_id],
                "asset_id": f"{plant_id}:{asset}",
                "line_id": f"{plant_id}:L1",
                "shift_code": shift,
                "shift_date": day,
                "shift_started_at": started_at,
                "shift_ended_at": started_at + timedelta(seconds=pot),
                "pot_s": pot,
                "pdot_s": pdot,
                "pbt_s": pbt,
                "apt_s": apt,
                "aust_s": aust,
                "adet_s": adet,
                "adot_s": adot,
                "pq": pq,
                "gq": gq,
                "sq": sq,
                "rq": rq,
                "pri_pq_s": pri_pq,
            }
        )
    return records


def build_warehouse(data_root: Path) -> Path:
    """Write `data_root/published.duckdb` with `main_marts.oee_asset_shift` and `main_marts.oee_plant_day`."""
    data_root.mkdir(parents=True, exist_ok=True)
    path = data_root / "published.duckdb"
    with duckdb.connect(str(path)) as connection:
        connection.register("rows", pd.DataFrame(asset_shift_records()))
        connection.execute("create schema main_marts")
        connection.execute(
            f"""
            create table main_marts.oee_asset_shift as
            select
                plant_id, plant_name, asset_id, line_id, shift_code, shift_date,
                shift_started_at::timestamptz as shift_started_at, shift_ended_at::timestamptz as shift_ended_at,
                pot_s::double as pot_s, pdot_s::double as pdot_s, pbt_s::double as pbt_s, apt_s::double as apt_s,
                aust_s::double as aust_s, adet_s::double as adet_s, adot_s::double as adot_s,
                pq::bigint as pq, gq::bigint as gq, sq::bigint as sq, rq::bigint as rq,
                pri_pq_s::double as pri_pq_s,
                {_KPI_COLUMNS}
            from rows
            """
        )
        connection.execute(
            f"""
            create table main_marts.oee_plant_day as
            with sums as (
                select
                    plant_id, plant_name, shift_date,
                    sum(pot_s) as pot_s, sum(pdot_s) as pdot_s, sum(pbt_s) as pbt_s, sum(apt_s) as apt_s,
                    sum(aust_s) as aust_s, sum(adet_s) as adet_s, sum(adot_s) as adot_s,
                    sum(pq)::bigint as pq, sum(gq)::bigint as gq, sum(sq)::bigint as sq, sum(rq)::bigint as rq,
                    sum(pri_pq_s) as pri_pq_s
                from main_marts.oee_asset_shift
                group by plant_id, plant_name, shift_date
            )
            select *, {_KPI_COLUMNS} from sums
            """
        )
    return path
