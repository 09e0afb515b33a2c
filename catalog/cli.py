"""``northstar catalog``: validate the catalog and render (or check) the files generated from it."""

from __future__ import annotations

import argparse

from catalog.contracts import ContractError, load_contracts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="northstar catalog")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("validate", help="validate every contract against the official ODCS JSON schema")
    render = sub.add_parser("render", help="generate dbt seeds and KPI macros from the catalog")
    render.add_argument("--check", action="store_true", help="write nothing; fail if a generated file has drifted")
    args = parser.parse_args(argv)

    if args.command == "validate":
        try:
            contracts = load_contracts()
        except ContractError as exc:
            print(f"invalid contract: {exc}")
            return 1
        for contract in contracts.values():
            print(f"ok  {contract.id} v{contract.version} ({len(contract.columns)} columns)")
        return 0

    from catalog.render import render_all

    drifted = render_all(check=args.check)
    if args.check:
        if drifted:
            print("generated files differ from the catalog (run `northstar catalog render`):")
            for path in drifted:
                print(f"  {path}")
            return 1
        print("generated files match the catalog")
        return 0
    for path in drifted:
        print(f"rendered {path}")
    return 0
