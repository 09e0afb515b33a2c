"""``northstar catalog``: validate the catalog, render (or check) what follows from it, and govern its changes.

    validate                      contracts (official ODCS schema), mappings and the governance config
    render [--check]              dbt artifacts from the catalog; --check fails on drift (generated or checked files)
    scaffold MODEL... [--update]  draft a dbt model's contract from the built warehouse (--update: refresh columns)
    propose ITEM [--set K=V]      propose an item's new version (the file as it is, or with fields set)
    diff ITEM|PROPOSAL            the change against the approved version, its classification and dependents
    approve PROPOSAL | reject     decide (no self-approval; quorum per domain)
    status [ITEM]                 approved, changed since approval, pending
    verify [--against REF]        the decision ledger's hash chain (and that it only grew since REF)
    unmapped [--draft]            plant-local codes in bronze without a mapping, to propose mappings from

Identity: ``--as <member>`` or NORTHSTAR_GOVERNANCE_USER (production: SSO / signed commits, docs/governance.md).
The logic lives in plain modules (catalog.governance, catalog.drift, catalog.masterdata); this is only the shell.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

from catalog import CATALOG_DIR
from catalog.contracts import ContractError, load_contracts


def _add_catalog_dir(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--catalog-dir", type=Path, default=CATALOG_DIR, help=argparse.SUPPRESS)


def _add_governance_options(parser: argparse.ArgumentParser, *, decides: bool) -> None:
    _add_catalog_dir(parser)
    parser.add_argument("--governance-dir", type=Path, default=None, help=argparse.SUPPRESS)
    if decides:
        parser.add_argument(
            "--as",
            dest="actor",
            default=os.environ.get("NORTHSTAR_GOVERNANCE_USER"),
            help="member acting (default: $NORTHSTAR_GOVERNANCE_USER)",
        )
        parser.add_argument("-m", "--reason", required=True, help="why: recorded in the ledger")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="northstar catalog", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    validate = sub.add_parser("validate", help="validate contracts (ODCS JSON schema), mappings and governance config")
    _add_catalog_dir(validate)

    render = sub.add_parser("render", help="generate dbt seeds, sources and KPI macros from the catalog")
    render.add_argument(
        "--check",
        action="store_true",
        help="write nothing; fail if a generated file or a file checked against the contracts drifted",
    )
    _add_catalog_dir(render)
    render.add_argument("--dbt-project-dir", type=Path, default=None, help=argparse.SUPPRESS)

    scaffold = sub.add_parser(
        "scaffold", help="draft the contract of dbt models from the built warehouse and their dbt YAML"
    )
    scaffold.add_argument("models", nargs="*", help="dbt model names, e.g. stg_mes__assets")
    scaffold.add_argument("--all", action="store_true", help="every model of the dbt project")
    scaffold.add_argument(
        "--update", action="store_true", help="refresh existing contracts: add and remove columns, keep curated fields"
    )
    scaffold.add_argument(
        "--warehouse",
        type=Path,
        default=Path(os.environ.get("NORTHSTAR_DATA_ROOT", "./data")) / "warehouse.duckdb",
        help="built warehouse to read the relations from (default: $NORTHSTAR_DATA_ROOT/warehouse.duckdb)",
    )
    _add_catalog_dir(scaffold)
    scaffold.add_argument("--dbt-project-dir", type=Path, default=None, help=argparse.SUPPRESS)

    propose = sub.add_parser("propose", help="propose new versions of catalog items for approval")
    propose.add_argument("items", nargs="*", help="item ids, e.g. kpi:oee, contract:published.marts.oee_plant_day")
    propose.add_argument("--changed", action="store_true", help="every item whose file is not approved as it is")
    propose.add_argument(
        "--set",
        dest="assignments",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="propose the file with a top-level field changed (repeatable); the file is not touched",
    )
    propose.add_argument("--from", dest="from_file", type=Path, help="propose the content of this file instead")
    _add_governance_options(propose, decides=True)

    diff = sub.add_parser("diff", help="show a proposal or an item against its approved version")
    diff.add_argument("target", help="proposal id (P-12) or item id (kpi:oee: its edited file, else its open proposal)")
    _add_governance_options(diff, decides=False)

    approve = sub.add_parser("approve", help="approve proposals (counts toward the domain's quorum)")
    approve.add_argument("proposals", nargs="*", help="proposal ids (P-12) or item ids (their open proposal)")
    approve.add_argument("--all-open", action="store_true", help="every open proposal this member may approve")
    _add_governance_options(approve, decides=True)

    reject = sub.add_parser("reject", help="reject (or, as its proposer, withdraw) a proposal")
    reject.add_argument("proposal", help="proposal id (P-12) or item id (its open proposal)")
    _add_governance_options(reject, decides=True)

    status = sub.add_parser("status", help="approval state of catalog items and open proposals")
    status.add_argument("items", nargs="*")
    status.add_argument("--pending", action="store_true", help="only open proposals")
    status.add_argument("--require-approved", action="store_true", help="exit 1 unless every listed item is approved")
    _add_governance_options(status, decides=False)

    verify = sub.add_parser("verify", help="verify the decision ledger (hash chain, snapshots, rules)")
    verify.add_argument(
        "--against",
        metavar="GIT_REF",
        help="also require the ledger committed at GIT_REF to be an unchanged prefix (e.g. origin/main)",
    )
    _add_governance_options(verify, decides=False)

    unmapped = sub.add_parser("unmapped", help="plant-local codes in bronze that no mapping covers")
    unmapped.add_argument("--data-root", type=Path, default=Path(os.environ.get("NORTHSTAR_DATA_ROOT", "./data")))
    unmapped.add_argument("--kind", action="append", help="only these kinds (plant, line, asset, material, ...)")
    unmapped.add_argument("--draft", action="store_true", help="print mapping entries to complete and propose")
    _add_catalog_dir(unmapped)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "validate":
        return _validate(args)
    if args.command == "render":
        return _render(args)
    if args.command == "unmapped":
        return _unmapped(args)
    if args.command == "scaffold":
        return _scaffold(args)

    from catalog.governance import GovernanceError

    try:
        return {
            "propose": _propose,
            "diff": _diff,
            "approve": _approve,
            "reject": _reject,
            "status": _status,
            "verify": _verify,
        }[args.command](args)
    except GovernanceError as exc:
        print(f"refused: {exc}", file=sys.stderr)
        return 1


# --- validate and render --------------------------------------------------------------------------------------------


def _validate(args: argparse.Namespace) -> int:
    from catalog.governance import GovernanceError, parse_config
    from catalog.masterdata import MappingError, load_mappings
    from catalog.render import load_kpi_definitions

    try:
        contracts = load_contracts(args.catalog_dir / "contracts")
    except ContractError as exc:
        print(f"invalid contract: {exc}")
        return 1
    for contract in contracts.values():
        print(f"ok  {contract.id} v{contract.version} ({len(contract.columns)} columns)")
    try:
        mappings = load_mappings(args.catalog_dir / "mappings")
        parse_config((args.catalog_dir / "governance.yaml").read_text(encoding="utf-8"))
    except (MappingError, GovernanceError) as exc:
        print(f"invalid: {exc}")
        return 1
    print(f"ok  mappings ({', '.join(f'{kind} {len(entries)}' for kind, entries in mappings.items())})")
    try:  # what the renderer checks before writing SQL from a definition (ids, factors, parameters)
        kpis = load_kpi_definitions(args.catalog_dir)
    except (ValueError, KeyError) as exc:
        print(f"invalid KPI definition: {exc}")
        return 1
    print(f"ok  KPI definitions ({len(kpis)})")
    print("ok  governance config")
    return 0


def _render(args: argparse.Namespace) -> int:
    from catalog.drift import DBT_PROJECT_DIR, check_all
    from catalog.render import render_all

    dbt_project_dir = args.dbt_project_dir or DBT_PROJECT_DIR
    drifted = render_all(check=args.check, catalog_dir=args.catalog_dir, dbt_project_dir=dbt_project_dir)
    drift = check_all(catalog_dir=args.catalog_dir, dbt_project_dir=dbt_project_dir)
    if args.check and drifted:
        print("generated files differ from the catalog (run `northstar catalog render`):")
        for path in drifted:
            print(f"  {path}")
    elif not args.check:
        for path in drifted:
            print(f"rendered {path}")
    if drift:
        print("files that must follow the contracts differ from them (fix the file, or propose a contract change):")
        for finding in drift:
            print(f"  {finding}")
    if (args.check and drifted) or drift:
        return 1
    if args.check:
        print("generated files match the catalog; dbt models, Dagster assets and GE suites match the contracts")
    return 0


def _scaffold(args: argparse.Namespace) -> int:
    from catalog.drift import DBT_PROJECT_DIR
    from catalog.scaffold import ScaffoldError, dbt_models, scaffold

    dbt_project_dir = args.dbt_project_dir or DBT_PROJECT_DIR
    names = sorted(dbt_models(dbt_project_dir)) if args.all else args.models
    if not names:
        print("name the models to scaffold, or --all")
        return 2
    try:
        results = scaffold(
            names,
            warehouse=args.warehouse,
            catalog_dir=args.catalog_dir,
            dbt_project_dir=dbt_project_dir,
            update=args.update,
        )
    except ScaffoldError as exc:
        print(f"cannot scaffold: {exc}")
        return 1
    for result in results:
        if result.created:
            verb = "drafted"
        elif result.changed:
            verb = "updated"
        else:
            verb = "unchanged" if args.update else "exists (use --update to refresh its columns)"
        print(f"{verb}: {result.contract_id} ({result.path.name})")
        for label, names_ in (("added", result.added), ("removed", result.removed), ("retyped", result.retyped)):
            if names_:
                print(f"    {label}: {', '.join(names_)}")
        if result.changed and result.undocumented:
            print(f"    to describe: {', '.join(result.undocumented)}")
    if any(r.changed for r in results):
        print("next: curate the contracts, `northstar catalog render`, then propose them for approval")
    return 0


def _unmapped(args: argparse.Namespace) -> int:
    from catalog.masterdata import draft_entries, unmapped_queue

    queue = unmapped_queue(
        args.data_root, mappings_dir=args.catalog_dir / "mappings", kinds=set(args.kind) if args.kind else None
    )
    for table in queue.missing_tables:
        print(f"(no bronze table {table} under {args.data_root} yet)")
    if not queue.codes:
        print("every plant-local code in bronze has a mapping in force")
    else:
        print(
            f"{'kind':<14} {'plant':<10} {'local code':<24} {'rows':>8}  {'first seen':<19}  {'last seen':<19}  source"
        )
        for code in queue.codes:
            print(
                f"{code.kind:<14} {code.plant_id:<10} {code.local_code:<24} {code.rows:>8}  "
                f"{code.first_seen:%Y-%m-%d %H:%M:%S}  {code.last_seen:%Y-%m-%d %H:%M:%S}  {code.source}"
            )
    shares = [c for c in queue.coverage if c.unmapped_rows]
    if shares:
        print("unmapped share per plant:")
        for c in shares:
            print(f"  {c.plant_id:<10} {c.kind:<14} {c.unmapped_share:7.2%} of {c.rows} rows ({c.source})")
    if args.draft:
        for file, entries in draft_entries(queue.codes).items():
            stem = Path(file).stem
            print(f"\n# {file}: add under its mappings, fill in the nulls, then")
            print(f"# `northstar catalog propose mapping:{stem} --as <you> -m <why>`")
            print("\n".join(entries))
    return 0


# --- governance -----------------------------------------------------------------------------------------------------


def _governance(args: argparse.Namespace):
    from catalog.governance import Governance, Workspace

    catalog_dir = args.catalog_dir.resolve()
    if args.governance_dir is None and catalog_dir == CATALOG_DIR:
        workspace = Workspace.default()
    else:
        workspace = Workspace(
            catalog_dir=catalog_dir,
            governance_dir=args.governance_dir or catalog_dir / "governance",
            repo_root=catalog_dir.parent,
        )
    return Governance(workspace)


def _print_review(review) -> None:
    from catalog.governance.items import short

    print(f"  changes against the approved version ({short(review.approved_hash)}):")
    for change in review.changes or ():
        print(f"    {'BREAKING ' if change.breaking else ''}{change.category}: {change.detail}")
    if not review.changes:
        print("    none")
    deps = review.dependents
    print("  depends on it (lineage):")
    print(f"    assets: {', '.join(deps.assets) or '-'}")
    print(f"    KPIs:   {', '.join(deps.kpis) or '-'}")
    print(f"    pages:  {', '.join(deps.pages) or '-'}")
    for note in deps.notes:
        print(f"    ({note})")
    if review.diff:
        print("  diff:")
        print("".join(f"    {line}\n" for line in review.diff.splitlines()), end="")


def _needs(governance, proposal) -> str:
    config = governance.state().config
    domain = config.domain_for(proposal.item)
    eligible = [m for m in config.approvers(domain) if m != proposal.proposer and m not in proposal.approvers]
    return (
        f"{len(proposal.approvals)} of {domain.quorum} approvals ({domain.name}: "
        f"{', '.join(sorted(domain.approver_roles))}); can approve: {', '.join(eligible) or 'nobody left'}"
    )


def _propose(args: argparse.Namespace) -> int:
    from catalog.governance import GovernanceError
    from catalog.governance.config import NothingToPropose
    from catalog.governance.workflow import set_fields

    governance = _governance(args)
    items = list(args.items)
    if args.changed:
        for status in governance.status():
            pending = status.open_proposal
            if status.state in ("never approved", "changed since approval") and not (
                pending and pending.hash == status.current_hash
            ):
                items.append(status.item)
    if not items:
        print("nothing to propose" if args.changed else "name the items to propose (or --changed)")
        return 0 if args.changed else 2
    if (args.assignments or args.from_file) and len(items) != 1:
        raise GovernanceError("--set and --from apply to exactly one item")
    refused = []
    for item_id in items:
        content = None
        if args.from_file:
            content = args.from_file.read_bytes()
        elif args.assignments:
            current = governance.current(item_id)
            if current is None:
                raise GovernanceError(f"{item_id} is not in the catalog")
            content = set_fields(current, args.assignments)
        try:
            proposal, created = governance.propose(item_id, actor=args.actor, reason=args.reason, content=content)
        except NothingToPropose as exc:  # e.g. `make demo` again after its proposal was approved
            print(exc)
            continue
        except GovernanceError as exc:
            if not args.changed:
                raise
            # one item the approved config cannot govern yet (a new domain awaits approval) stops no other proposal
            print(f"not proposed: {item_id}: {exc}")
            refused.append(item_id)
            continue
        if not created:
            print(f"{proposal.label} already proposes this content of {item_id} ({_needs(governance, proposal)})")
            continue
        print(
            f"{proposal.label} proposed by {proposal.proposer}: {item_id}"
            f"{' v' + proposal.version if proposal.version else ''}"
        )
        print(f"  needs {_needs(governance, proposal)}")
        if len(items) == 1:
            _print_review(governance.review(proposal.label))
    return 1 if refused else 0


def _diff(args: argparse.Namespace) -> int:
    governance = _governance(args)
    review = governance.review(args.target)
    print(
        f"{review.proposal.label + ' ' if review.proposal else ''}{review.item}"
        f"{'' if review.proposal else ' (working copy)'}"
    )
    if review.proposal:
        print(
            f"  {review.proposal.label} by {review.proposal.proposer} ({review.proposal.state}): "
            f"{review.proposal.reason}"
        )
    _print_review(review)
    return 0


def _approve(args: argparse.Namespace) -> int:
    from catalog.governance import GovernanceError
    from catalog.governance.workflow import refusal_to_approve

    governance = _governance(args)
    targets = list(args.proposals)
    if args.all_open:
        state = governance.state()
        for proposal in state.proposals.values():
            if proposal.state != "open":
                continue
            refusal = refusal_to_approve(state.config, proposal, args.actor)
            if refusal:
                print(f"skip {proposal.label} ({proposal.item}): {refusal}")
            else:
                targets.append(proposal.label)
    if not targets:
        print("nothing to approve")
        return 0 if args.all_open else 2
    for target in targets:
        proposal = governance.approve(target, actor=args.actor, reason=args.reason)
        print(
            f"{args.actor} approved {proposal.label} ({proposal.item}): {len(proposal.approvals)} of {proposal.quorum}"
        )
        if proposal.state != "approved":
            continue
        print(f"{proposal.label} is approved: {proposal.item} may be published as this version")
        try:
            written = governance.apply(proposal.label)
        except GovernanceError as exc:
            print(f"  not applied to the catalog: {exc}")
            continue
        if written:
            print(f"  wrote the approved content to {written}")
            _rerender(governance)
    return 0


def _rerender(governance) -> None:
    """A changed KPI, mapping or contract changes generated dbt artifacts: render them right away."""
    from catalog.render import render_all

    dbt_project_dir = governance.workspace.repo_root / "dbt_project"
    if not dbt_project_dir.is_dir():
        return
    for path in render_all(catalog_dir=governance.workspace.catalog_dir, dbt_project_dir=dbt_project_dir):
        print(f"  rendered dbt_project/{path}")


def _reject(args: argparse.Namespace) -> int:
    proposal = _governance(args).reject(args.proposal, actor=args.actor, reason=args.reason)
    print(f"{args.actor} closed {proposal.label} ({proposal.item}): {proposal.state}")
    return 0


def _status(args: argparse.Namespace) -> int:
    governance = _governance(args)
    if args.pending:
        open_proposals = [p for p in governance.state().proposals.values() if p.state == "open"]
        for p in open_proposals:
            print(f"{p.label}  {p.item}  by {p.proposer} at {p.at}: {p.reason}")
            print(f"  {_needs(governance, p)}")
        if not open_proposals:
            print("no open proposals")
        return 0
    statuses = governance.status(args.items or None)
    for s in statuses:
        print(f"{s.item:<52} {s.domain:<16} {s.state:<24} {s.reason.split(': ', 1)[-1] if not s.publishable else ''}")
    problems = governance.integrity_problems()
    for problem in problems:
        print(f"LEDGER: {problem}")
    if args.require_approved and (problems or any(not s.publishable for s in statuses)):
        return 1
    return 0


def _verify(args: argparse.Namespace) -> int:
    governance = _governance(args)
    reference = None
    if args.against:
        ledger = governance.workspace.ledger_path.resolve()
        repo = governance.workspace.repo_root.resolve()
        shown = subprocess.run(
            ["git", "show", f"{args.against}:{ledger.relative_to(repo)}"],
            cwd=repo,
            capture_output=True,
            text=True,
            check=False,
        )
        if (
            shown.returncode != 0
            and "exists on disk, but not in" not in shown.stderr
            and "does not exist" not in shown.stderr
        ):
            print(f"cannot read the ledger at {args.against}: {shown.stderr.strip()}", file=sys.stderr)
            return 2
        reference = shown.stdout if shown.returncode == 0 else ""
    problems = governance.verify(reference)
    records = len(governance.ledger.records())
    if problems:
        print(f"the ledger {governance.workspace.ledger_path} FAILS verification:")
        for problem in problems:
            print(f"  {problem}")
        return 1
    print(f"ledger ok: {records} records, hash chain intact{', extends ' + args.against if args.against else ''}")
    return 0
