"""Asset metadata derived from data contracts."""

from __future__ import annotations

import dagster as dg

from catalog.contracts import Contract


def column_schema(contract: Contract) -> dg.TableSchema:
    return dg.TableSchema(
        columns=[
            dg.TableColumn(
                name=c.name,
                type=str(c.arrow_type),
                description=c.description + (f" [{c.unit}]" if c.unit else ""),
                constraints=dg.TableColumnConstraints(nullable=not c.required),
            )
            for c in contract.columns
        ]
    )


def contract_metadata(contract: Contract) -> dict[str, str]:
    return {
        "contract_id": contract.id,
        "contract_version": contract.version,
        "contract_status": contract.status,
        "contract_file": str(contract.file.name),
        "primary_key": ", ".join(contract.primary_key),
    }
