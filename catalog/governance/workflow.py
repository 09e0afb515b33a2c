"""The governance workflow over one checkout: propose, approve, reject, review, status, verify, apply, and what the
pipeline may publish.

The ledger is the only state. Replaying it in order gives every proposal, its approvals and each item's approved
version; the rules are applied during the replay as well as when a decision is recorded, so a record appended past
the CLI that breaks a rule (a self-approval, a non-member, a missing role) never counts and ``verify`` reports it.

- An approval binds to the content hash of the proposal; an item is approved only while its file hashes exactly
  to its last approved version, so any edit voids the approval until a new proposal is approved.
- No self-approval; a proposal is approved once ``quorum`` different members holding one of the domain's approver
  roles approved it. One rejection closes it. A newer proposal for the same item supersedes an open one.
- The governance config in force is the last approved version of ``catalog/governance.yaml`` (the working copy
  only until the first approval of ``governance:config``): editing the file does not change who may approve.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple

import yaml

from catalog import CATALOG_DIR
from catalog.contracts import ContractError, parse_contract
from catalog.governance.changes import Change, classify, needs_new_version, unified_diff
from catalog.governance.config import GovernanceConfig, GovernanceError, NothingToPropose, parse_config
from catalog.governance.items import (
    GOVERNANCE_ITEM,
    CatalogItem,
    catalog_items,
    content_hash,
    item_kind,
    short,
    version_of,
)
from catalog.governance.ledger import Ledger, LedgerProblem, SnapshotStore, verify_prefix
from catalog.governance.lineage import Dependents, Lineage
from catalog.masterdata import MAPPING_KINDS, MappingError, parse_mapping_file
from catalog.plants import parse_plant

GOVERNANCE_DIR_ENV = "NORTHSTAR_GOVERNANCE_DIR"
USER_ENV = "NORTHSTAR_GOVERNANCE_USER"


@dataclass(frozen=True)
class Workspace:
    """Where the catalog, the ledger (with its snapshots) and the code that depends on the catalog live."""

    catalog_dir: Path = CATALOG_DIR
    governance_dir: Path = CATALOG_DIR / "governance"
    repo_root: Path = CATALOG_DIR.parent

    @classmethod
    def default(cls) -> Workspace:
        """The repository's catalog; ``NORTHSTAR_GOVERNANCE_DIR`` moves the ledger and snapshots elsewhere."""
        return cls.of(CATALOG_DIR)

    @classmethod
    def of(cls, catalog_dir: Path) -> Workspace:
        """The catalog in ``catalog_dir`` with its ledger under ``governance/`` (or ``NORTHSTAR_GOVERNANCE_DIR``)."""
        override = os.environ.get(GOVERNANCE_DIR_ENV)
        governance_dir = Path(override) if override else catalog_dir / "governance"
        return cls(catalog_dir=catalog_dir, governance_dir=governance_dir, repo_root=catalog_dir.parent)

    @property
    def ledger_path(self) -> Path:
        return self.governance_dir / "ledger.jsonl"

    @property
    def snapshots_dir(self) -> Path:
        return self.governance_dir / "snapshots"

    @property
    def config_path(self) -> Path:
        return self.catalog_dir / "governance.yaml"


# --- the state replayed from the ledger -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Approval:
    actor: str
    at: str
    reason: str
    seq: int


@dataclass
class Proposal:
    id: int
    item: str
    hash: str
    base: str | None  # the approved hash when proposed (None: first version)
    proposer: str
    at: str
    reason: str
    version: str | None
    domain: str
    quorum: int
    approvals: list[Approval] = field(default_factory=list)
    state: str = "open"  # open | approved | rejected | superseded
    closed_by: str | None = None
    closed_reason: str | None = None

    @property
    def label(self) -> str:
        return f"P-{self.id}"

    @property
    def approvers(self) -> list[str]:
        return [a.actor for a in self.approvals]


@dataclass(frozen=True)
class ApprovedVersion:
    item: str
    hash: str
    proposal: int
    approvers: tuple[str, ...]
    at: str
    version: str | None


@dataclass
class LedgerState:
    proposals: dict[int, Proposal]
    approved: dict[str, ApprovedVersion]
    config: GovernanceConfig  # in force after the last record
    ignored: list[str]  # records the rules do not count, with why

    def open_proposal(self, item_id: str) -> Proposal | None:
        return next((p for p in self.proposals.values() if p.item == item_id and p.state == "open"), None)


def refusal_to_propose(config: GovernanceConfig, item_id: str, actor: str | None) -> str | None:
    try:
        config.member(actor)
        config.domain_for(item_id)
    except GovernanceError as exc:
        return str(exc)
    return None


def refusal_to_approve(config: GovernanceConfig, proposal: Proposal, actor: str | None) -> str | None:
    """Why ``actor`` may not approve ``proposal`` under ``config``; None when the approval counts."""
    try:
        member = config.member(actor)
        domain = config.domain_for(proposal.item)
    except GovernanceError as exc:
        return str(exc)
    if proposal.state != "open":
        return f"{proposal.label} is {proposal.state}, not open"
    if member.id == proposal.proposer:
        return f"no self-approval: {member.id} proposed {proposal.label}"
    if not member.roles & domain.approver_roles:
        return (
            f"{member.id} holds none of the roles that approve the {domain.name} domain "
            f"({', '.join(sorted(domain.approver_roles))})"
        )
    if member.id in proposal.approvers:
        return f"{member.id} already approved {proposal.label}"
    return None


def refusal_to_reject(config: GovernanceConfig, proposal: Proposal, actor: str | None) -> str | None:
    """Any approver of the domain may reject an open proposal; its proposer may withdraw it."""
    try:
        member = config.member(actor)
        domain = config.domain_for(proposal.item)
    except GovernanceError as exc:
        return str(exc)
    if proposal.state != "open":
        return f"{proposal.label} is {proposal.state}, not open"
    if member.id != proposal.proposer and not member.roles & domain.approver_roles:
        return f"{member.id} holds none of the roles of the {domain.name} domain and did not propose {proposal.label}"
    return None


def replay(records: Iterable[dict[str, Any]], bootstrap: GovernanceConfig, snapshots: SnapshotStore) -> LedgerState:
    """Proposals, approvals and approved versions as the ledger's records establish them, rules applied."""
    state = LedgerState({}, {}, bootstrap, [])
    for record in records:
        seq, action, actor = record.get("seq"), record.get("action"), record.get("actor")
        config = state.config
        if action == "propose":
            refusal = refusal_to_propose(config, record.get("item", ""), actor)
            if refusal:
                state.ignored.append(f"record {seq} (propose {record.get('item')}): {refusal}")
                continue
            previous = state.open_proposal(record["item"])
            if previous:
                previous.state, previous.closed_by = "superseded", f"P-{seq}"
            domain = config.domain_for(record["item"])
            state.proposals[seq] = Proposal(
                id=seq,
                item=record["item"],
                hash=record["hash"],
                base=record.get("base"),
                proposer=actor,
                at=record["at"],
                reason=record.get("reason", ""),
                version=record.get("version"),
                domain=domain.name,
                quorum=domain.quorum,
            )
            continue
        if action not in ("approve", "reject"):
            state.ignored.append(f"record {seq}: unknown action {action!r}")
            continue
        proposal = state.proposals.get(record.get("proposal"))
        if proposal is None:
            state.ignored.append(f"record {seq}: {action} of unknown proposal {record.get('proposal')}")
            continue
        if record.get("hash") != proposal.hash:
            state.ignored.append(
                f"record {seq}: {action} names content {short(record.get('hash'))}, "
                f"{proposal.label} proposed {short(proposal.hash)}"
            )
            continue
        if action == "reject":
            refusal = refusal_to_reject(config, proposal, actor)
            if refusal:
                state.ignored.append(f"record {seq} (reject {proposal.label}): {refusal}")
                continue
            proposal.state, proposal.closed_by, proposal.closed_reason = "rejected", actor, record.get("reason")
            continue
        refusal = refusal_to_approve(config, proposal, actor)
        if refusal:
            state.ignored.append(f"record {seq} (approve {proposal.label}): {refusal}")
            continue
        proposal.approvals.append(Approval(actor, record["at"], record.get("reason", ""), seq))
        domain = config.domain_for(proposal.item)
        proposal.quorum = domain.quorum
        if len(proposal.approvals) >= domain.quorum:
            proposal.state = "approved"
            state.approved[proposal.item] = ApprovedVersion(
                proposal.item, proposal.hash, proposal.id, tuple(proposal.approvers), record["at"], proposal.version
            )
            if proposal.item == GOVERNANCE_ITEM:
                content = snapshots.get(proposal.hash)
                if content is None:
                    state.ignored.append(
                        f"record {seq}: approved governance config {short(proposal.hash)} has no "
                        "snapshot; the previous config stays in force"
                    )
                else:
                    state.config = parse_config(content.decode("utf-8"), source=f"snapshot {short(proposal.hash)}")
    return state


# --- results --------------------------------------------------------------------------------------------------------


class PublicationStatus(NamedTuple):
    """Whether the pipeline may publish with an item as it is in the catalog now, and why."""

    item: str
    approved: bool
    reason: str


@dataclass(frozen=True)
class ItemStatus:
    item: str
    domain: str
    state: str  # approved | changed since approval | never approved | missing | unknown
    current_hash: str | None
    current_version: str | None
    approved: ApprovedVersion | None
    open_proposal: Proposal | None

    @property
    def publishable(self) -> bool:
        return self.state == "approved"

    @property
    def reason(self) -> str:
        approved = self.approved
        pending = ""
        if self.open_proposal:
            p = self.open_proposal
            pending = (
                f"; {p.label} by {p.proposer} awaits approval ({len(p.approvals)} of {p.quorum}"
                f"{': ' + ', '.join(p.approvers) if p.approvers else ''})"
            )
        version = f" v{self.current_version}" if self.current_version else ""
        if self.state == "approved" and approved:
            return (
                f"approved{version} ({short(approved.hash)}) in P-{approved.proposal} by "
                f"{' and '.join(approved.approvers)} at {approved.at}{pending}"
            )
        if self.state == "changed since approval" and approved:
            was = f" v{approved.version}" if approved.version else ""
            return (
                f"not approved: the catalog has{version} ({short(self.current_hash)}), the approved version is"
                f"{was} ({short(approved.hash)}, P-{approved.proposal}); an edit voids the approval{pending}"
            )
        if self.state == "never approved":
            return f"not approved: {self.item}{version} ({short(self.current_hash)}) was never approved{pending}"
        if self.state == "missing":
            return f"not publishable: {self.item} was approved but its file is gone from the catalog"
        return f"not publishable: {self.item} is not an item of the catalog"


@dataclass(frozen=True)
class GovernedContent:
    """What a consumer of an item (the apps) may use under governance: the item's file when it is approved as it is,
    else the content of its last approved version (kept in the snapshot store), else nothing."""

    item: str
    state: str  # ItemStatus.state, or "ledger fails verification"
    content: bytes | None  # None: nothing approved can be used
    approved: ApprovedVersion | None  # the approved version `content` is; None when content is None
    reason: str  # the status line (ItemStatus.reason), or why the ledger cannot be trusted
    remedy: str  # what makes the file as it is the approved version; empty when it is

    @property
    def current(self) -> bool:
        """The content is the item's file as it is now (approved as-is)."""
        return self.state == "approved" and self.content is not None

    @property
    def fallback(self) -> bool:
        """The file is not approved as it is; the content is its last approved version."""
        return self.content is not None and not self.current


@dataclass(frozen=True)
class Review:
    """A proposal (or the working copy of an item) against the approved version."""

    item: str
    proposal: Proposal | None
    approved_hash: str | None
    proposed_hash: str | None
    diff: str
    changes: tuple[Change, ...]
    dependents: Dependents

    @property
    def breaking(self) -> bool:
        return any(c.breaking for c in self.changes)


# --- the service ----------------------------------------------------------------------------------------------------


def _now() -> datetime:
    return datetime.now(UTC)


def _parse_proposal_id(value: str | int) -> int:
    match = re.fullmatch(r"(?:P-?)?(\d+)", str(value).strip(), flags=re.IGNORECASE)
    if not match:
        raise GovernanceError(f"{value!r} is not a proposal id (P-12 or 12)")
    return int(match.group(1))


class Governance:
    """The workflow over one workspace. The CLI and the apps call the same methods."""

    def __init__(self, workspace: Workspace | None = None, *, clock: Callable[[], datetime] = _now) -> None:
        self.workspace = workspace or Workspace.default()
        self.ledger = Ledger(self.workspace.ledger_path)
        self.snapshots = SnapshotStore(self.workspace.snapshots_dir)
        self._clock = clock

    # -- reading --

    def items(self) -> dict[str, CatalogItem]:
        return catalog_items(self.workspace.catalog_dir)

    def state(self) -> LedgerState:
        bootstrap = parse_config(self.workspace.config_path.read_text(encoding="utf-8"))
        return replay(self.ledger.records(), bootstrap, self.snapshots)

    def integrity_problems(self) -> list[LedgerProblem]:
        return [*self.ledger.verify(), *self.snapshots.verify()]

    def current(self, item_id: str) -> bytes | None:
        item = self.items().get(item_id)
        return item.read() if item else None

    def _proposal(self, state: LedgerState, proposal_id: str | int) -> Proposal:
        """A proposal by id (``P-12``, ``12``), or the open proposal of an item id (``kpi:oee``)."""
        if ":" in str(proposal_id):
            open_proposal = state.open_proposal(str(proposal_id))
            if open_proposal is None:
                raise GovernanceError(f"{proposal_id} has no open proposal")
            return open_proposal
        number = _parse_proposal_id(proposal_id)
        try:
            return state.proposals[number]
        except KeyError:
            raise GovernanceError(f"there is no proposal P-{number}") from None

    def _at(self) -> str:
        return self._clock().astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")

    # -- deciding --

    def propose(
        self, item_id: str, *, actor: str | None, reason: str, content: bytes | None = None
    ) -> tuple[Proposal, bool]:
        """Propose ``content`` (default: the item's file as it is now) as the next version of an item.

        Returns the proposal and whether it is new: proposing the same content again returns the open proposal.
        """
        _require_reason(reason)
        item_kind(item_id)
        state = self.state()
        refusal = refusal_to_propose(state.config, item_id, actor)
        if refusal:
            raise GovernanceError(refusal)
        items = self.items()
        if item_id not in items:
            raise GovernanceError(f"{item_id} is not in the catalog (known: {', '.join(sorted(items))})")
        if content is None:
            content = items[item_id].read()
            if content is None:
                raise GovernanceError(f"{items[item_id].path} does not exist")
        new_hash = content_hash(content)
        approved = state.approved.get(item_id)
        if approved and approved.hash == new_hash:
            raise NothingToPropose(f"nothing to propose: {item_id} is already approved as this content")
        open_proposal = state.open_proposal(item_id)
        if open_proposal and open_proposal.hash == new_hash:
            return open_proposal, False
        _validate_content(items[item_id], content)
        base_text = _text(self.snapshots.get(approved.hash)) if approved else None
        changes = classify(items[item_id].kind, base_text, _text(content))
        if needs_new_version(items[item_id].kind, base_text, _text(content), changes):
            breaking = ", ".join(sorted({c.category for c in changes if c.breaking}))
            raise GovernanceError(
                f"{item_id}: a breaking change ({breaking}) needs a new version; raise `version` "
                f"(approved: {version_of(self.snapshots.get(approved.hash)) if approved else None})"
            )
        self.snapshots.put(content)
        record = self.ledger.append(
            {
                "at": self._at(),
                "actor": actor,
                "action": "propose",
                "item": item_id,
                "hash": new_hash,
                "base": approved.hash if approved else None,
                "version": version_of(content),
                "changes": [c.as_dict() for c in changes],
                "reason": reason,
            }
        )
        return self.state().proposals[record["seq"]], True

    def approve(self, proposal_id: str | int, *, actor: str | None, reason: str) -> Proposal:
        """Approve a proposal; returns it as it stands afterwards (``state == "approved"`` once the quorum is met)."""
        _require_reason(reason)
        state = self.state()
        proposal = self._proposal(state, proposal_id)
        refusal = refusal_to_approve(state.config, proposal, actor)
        if refusal:
            raise GovernanceError(refusal)
        self._decide("approve", proposal, actor, reason)
        return self.state().proposals[proposal.id]

    def reject(self, proposal_id: str | int, *, actor: str | None, reason: str) -> Proposal:
        _require_reason(reason)
        state = self.state()
        proposal = self._proposal(state, proposal_id)
        refusal = refusal_to_reject(state.config, proposal, actor)
        if refusal:
            raise GovernanceError(refusal)
        self._decide("reject", proposal, actor, reason)
        return self.state().proposals[proposal.id]

    def _decide(self, action: str, proposal: Proposal, actor: str | None, reason: str) -> None:
        self.ledger.append(
            {
                "at": self._at(),
                "actor": actor,
                "action": action,
                "item": proposal.item,
                "hash": proposal.hash,
                "proposal": proposal.id,
                "reason": reason,
            }
        )

    def apply(self, proposal_id: str | int) -> Path | None:
        """Write an approved proposal's content into the catalog file; None when the file already has it.

        Refused when the proposal is not the item's approved version, or when the file changed since the proposal
        was made (someone else's edit is never overwritten).
        """
        state = self.state()
        proposal = self._proposal(state, proposal_id)
        approved = state.approved.get(proposal.item)
        if proposal.state != "approved" or approved is None or approved.hash != proposal.hash:
            raise GovernanceError(f"{proposal.label} is not the approved version of {proposal.item}")
        item = self.items()[proposal.item]
        current = item.read()
        if current is not None and content_hash(current) == proposal.hash:
            return None
        if current is not None and content_hash(current) != proposal.base:
            raise GovernanceError(
                f"{item.path} changed since {proposal.label} was proposed; merge the approved content by hand "
                f"(northstar catalog diff {proposal.label})"
            )
        content = self.snapshots.get(proposal.hash)
        if content is None:
            raise GovernanceError(f"the snapshot of {proposal.label} is missing")
        item.path.write_bytes(content)
        return item.path

    # -- reporting --

    def review(self, target: str) -> Review:
        """The change a proposal (``P-12``) or an item (``kpi:oee``) makes against the approved version.

        For an item: its file as it is now when that differs from the approved version, else its open proposal.
        """
        state = self.state()
        items = self.items()
        proposal = None
        if ":" in target:
            item_id = target
            if item_id not in items:
                raise GovernanceError(f"{item_id} is not in the catalog")
            new = items[item_id].read()
            approved = state.approved.get(item_id)
            pending = state.open_proposal(item_id)
            if pending and new is not None and approved and content_hash(new) == approved.hash:
                proposal, new = pending, self.snapshots.get(pending.hash)
        else:
            proposal = self._proposal(state, target)
            item_id, new = proposal.item, self.snapshots.get(proposal.hash)
        approved = state.approved.get(item_id)
        old = self.snapshots.get(approved.hash) if approved else None
        name = items[item_id].path.relative_to(self.workspace.catalog_dir.parent) if item_id in items else item_id
        label = proposal.label if proposal else "working copy"
        diff = unified_diff(
            _text(old),
            _text(new),
            str(name),
            old_label=f"approved {short(approved.hash)}" if approved else "nothing approved",
            new_label=f"{label} {short(content_hash(new)) if new is not None else 'deleted'}",
        )
        kind = item_kind(item_id)
        changes = tuple(classify(kind, _text(old), _text(new)))
        dependents = Lineage(self.workspace.catalog_dir, self.workspace.repo_root).dependents(item_id)
        return Review(
            item_id,
            proposal,
            approved.hash if approved else None,
            content_hash(new) if new is not None else None,
            diff,
            changes,
            dependents,
        )

    def status(self, item_ids: Iterable[str] | None = None) -> list[ItemStatus]:
        state = self.state()
        items = self.items()
        wanted = list(item_ids) if item_ids is not None else sorted(items.keys() | state.approved.keys())
        statuses = []
        for item_id in wanted:
            item = items.get(item_id)
            statuses.append(_item_status(state, item_id, item is not None, item.read() if item else None))
        return statuses

    def governed_content(self, item_id: str) -> GovernedContent:
        """The content of an item a consumer may use: its file when approved as it is, else its last approved
        version from the snapshot store, else None; with the item's status and what would make the file approved.

        Nothing is trusted when the ledger or a snapshot fails verification.
        """
        problems = self.integrity_problems()
        if problems:
            return GovernedContent(
                item_id,
                "ledger fails verification",
                None,
                None,
                f"the governance ledger fails verification ({problems[0]}); no approval can be trusted until it is "
                "restored",
                "restore the decision ledger and its snapshots (`northstar catalog verify` names what is wrong)",
            )
        state = self.state()
        item = self.items().get(item_id)
        content = item.read() if item else None
        status = _item_status(state, item_id, item is not None, content)
        approved = status.approved
        if status.state == "approved":
            return GovernedContent(item_id, status.state, content, approved, status.reason, "")
        remedy = _remedy(state, status, item)
        if approved is None:
            return GovernedContent(item_id, status.state, None, None, status.reason, remedy)
        snapshot = self.snapshots.get(approved.hash)
        if snapshot is None:
            reason = f"{status.reason}; the approved version's snapshot ({short(approved.hash)}) is missing"
            return GovernedContent(item_id, status.state, None, None, reason, remedy)
        return GovernedContent(item_id, status.state, snapshot, approved, status.reason, remedy)

    def verify(self, reference_ledger: str | None = None) -> list[str]:
        """Chain and snapshot integrity, records the rules refuse, and (given an older copy of the ledger, e.g. the
        committed one) that the ledger only grew since."""
        problems = [str(p) for p in self.integrity_problems()]
        if reference_ledger is not None:
            problems += [f"against the reference: {p}" for p in verify_prefix(reference_ledger, self.ledger.text())]
        if not problems:
            problems += [f"ignored by the rules: {reason}" for reason in self.state().ignored]
        return problems

    def publication_status(self, item_ids: Iterable[str]) -> list[PublicationStatus]:
        item_ids = list(item_ids)
        problems = self.integrity_problems()
        if problems:
            reason = (
                f"not publishable: the governance ledger fails verification ({problems[0]}); "
                "no approval can be trusted until it is restored"
            )
            return [PublicationStatus(item, False, reason) for item in item_ids]
        return [PublicationStatus(s.item, s.publishable, s.reason) for s in self.status(item_ids)]

    def items_in_use(self, asset_key: Iterable[str]) -> list[str]:
        return Lineage(self.workspace.catalog_dir, self.workspace.repo_root).items_in_use(asset_key)


# --- helpers --------------------------------------------------------------------------------------------------------


def _item_status(state: LedgerState, item_id: str, known: bool, content: bytes | None) -> ItemStatus:
    """The status of an item whose file (when ``known``, an item of the catalog) has ``content`` (None: no file)."""
    approved = state.approved.get(item_id)
    current = content_hash(content) if content is not None else None
    if not known and approved is None:
        label = "unknown"
    elif content is None:
        label = "missing"
    elif approved is None:
        label = "never approved"
    elif approved.hash == current:
        label = "approved"
    else:
        label = "changed since approval"
    try:
        domain = state.config.domain_for(item_id).name
    except GovernanceError:
        domain = "-"
    return ItemStatus(item_id, domain, label, current, version_of(content), approved, state.open_proposal(item_id))


def _remedy(state: LedgerState, status: ItemStatus, item: CatalogItem | None) -> str:
    """What makes an item that is not approved as it is approved: the commands, and who may approve."""
    try:
        domain = state.config.domain_for(status.item)
    except GovernanceError as exc:
        return f"{exc}: the governance config must first be changed to govern it (item governance:config)"
    approvers = f"{domain.quorum} members holding {' or '.join(sorted(domain.approver_roles))} ({domain.name} domain)"
    if status.state == "missing" and status.approved:
        return (
            f"restore the file: `northstar catalog apply P-{status.approved.proposal}` writes the approved version back"
        )
    if status.state == "unknown" or item is None:
        return f"{status.item} is not an item of the catalog"
    pending = status.open_proposal
    if pending and pending.hash == status.current_hash:
        return (
            f"{pending.label} proposes the file as it is and awaits approval ({len(pending.approvals)} of "
            f"{pending.quorum}): {approvers} approve it with "
            f'`northstar catalog approve {pending.label} --as <member> -m "<reason>"`'
        )
    revert = "; or revert the edit to the approved version" if status.state == "changed since approval" else ""
    return (
        f'propose the file as it is with `northstar catalog propose {status.item} --as <member> -m "<reason>"`, then '
        f"{approvers} approve it (`northstar catalog approve P-<n> ...`){revert}"
    )


def _text(content: bytes | None) -> str | None:
    return content.decode("utf-8") if content is not None else None


def _require_reason(reason: str) -> None:
    if not reason or not reason.strip():
        raise GovernanceError("every decision needs a reason (-m/--reason)")


def _validate_content(item: CatalogItem, content: bytes) -> None:
    """Refuse content the catalog could not load: the same parsers the pipeline uses, on a scratch copy."""
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / item.path.name
        path.write_bytes(content)
        name = item.id.split(":", 1)[1]
        try:
            if item.kind == "contract":
                if parse_contract(path).id != name:
                    raise GovernanceError(f"the proposed content is not contract {name}")
            elif item.kind == "plant":
                if parse_plant(path).plant_id != name:
                    raise GovernanceError(f"the proposed content is not plant {name}")
            elif item.kind == "governance":
                parse_config(content.decode("utf-8"), source="proposed governance config")
            elif item.kind == "mapping":
                kinds = [k for k in MAPPING_KINDS.values() if k.file == item.path.name]
                for kind in kinds:
                    parse_mapping_file(kind, path)
                if not kinds and not isinstance(yaml.safe_load(content), dict):
                    raise GovernanceError(f"the proposed content of {item.id} is not a YAML mapping")
            elif item.kind == "kpi":
                document = yaml.safe_load(content)
                if not isinstance(document, dict) or document.get("id") != name or "formula" not in document:
                    raise GovernanceError(f"the proposed content is not KPI definition {name} (id, formula)")
            elif item.kind == "apps":
                _validate_apps_config(yaml.safe_load(content))
        except (ContractError, MappingError, KeyError, TypeError, yaml.YAMLError) as exc:
            raise GovernanceError(f"{item.id}: the proposed content is invalid: {exc}") from exc


def _validate_apps_config(document: Any) -> None:
    """The apps' config: a mapping whose confidence threshold is a share (apps/app_config.py reads the rest)."""
    if not isinstance(document, dict) or not isinstance(document.get("confidence"), dict):
        raise GovernanceError("the proposed apps config is not a mapping with a confidence section")
    min_coverage = document["confidence"].get("min_coverage")
    if isinstance(min_coverage, bool) or not isinstance(min_coverage, int | float) or not 0 <= min_coverage <= 1:
        raise GovernanceError(f"confidence.min_coverage must be a share between 0 and 1, not {min_coverage!r}")


def set_fields(content: bytes, assignments: list[str]) -> bytes:
    """Change top-level scalar fields of a YAML file in place (``target=0.80``), keeping comments and layout.

    Only a line ``<key>: <scalar>`` at the top level is rewritten; anything else (nested keys, lists) is refused, so
    a proposal made this way changes exactly what it says.
    """
    text = content.decode("utf-8")
    for assignment in assignments:
        key, sep, value = assignment.partition("=")
        key = key.strip()
        if not sep or not key.isidentifier():
            raise GovernanceError(f"--set {assignment!r}: use KEY=VALUE for a top-level field")
        pattern = re.compile(rf"^{re.escape(key)}:[ \t]*(?P<old>[^\n#]*?)[ \t]*(?P<comment>#[^\n]*)?$", re.MULTILINE)
        matches = list(pattern.finditer(text))
        if len(matches) != 1 or not matches[0].group("old") or matches[0].group("old").startswith((">", "|")):
            raise GovernanceError(f"--set {key}: the file has no single top-level scalar field {key!r}")
        parsed = yaml.safe_load(value) if value.strip() else None
        if isinstance(parsed, dict | list):
            raise GovernanceError(f"--set {key}: only scalar values can be set this way")
        rendered = yaml.safe_dump(parsed, default_flow_style=True).strip().removesuffix("...").strip()
        match = matches[0]
        comment = f"  {match.group('comment')}" if match.group("comment") else ""
        text = text[: match.start()] + f"{key}: {rendered}{comment}" + text[match.end() :]
    return text.encode("utf-8")


def publication_status(item_ids: Iterable[str], *, workspace: Workspace | None = None) -> list[PublicationStatus]:
    """For each item id (``contract:<id>``, ``kpi:<id>``, ...): may the pipeline publish with it as the catalog has
    it now? ``(item, approved, reason)``; approved only if the ledger verifies and the item's file hashes exactly
    to its last approved version. There is no override: no identity, service account or flag bypasses this."""
    return Governance(workspace).publication_status(item_ids)


def governed_content(item_id: str, *, workspace: Workspace | None = None) -> GovernedContent:
    """The content of an item a consumer may use: the file when approved as it is, else the last approved version
    (``fallback``), else None (``Governance.governed_content``)."""
    return Governance(workspace).governed_content(item_id)


def items_in_use(asset_key: Iterable[str], *, workspace: Workspace | None = None) -> list[str]:
    """The governed items a warehouse asset (``["marts", "oee_plant_day"]``) is computed from, from lineage: its
    contract, the KPI definitions it publishes, and upstream contracts, mappings and plant profiles."""
    return Governance(workspace).items_in_use(asset_key)
