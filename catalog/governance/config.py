"""The governance config (``catalog/governance.yaml``): members, roles, and the quorum per domain."""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from typing import Any

import yaml


class GovernanceError(ValueError):
    """A governance action was refused or the governance data is invalid; the message says why."""


class NothingToPropose(GovernanceError):
    """The proposed content is already the approved version of the item."""


@dataclass(frozen=True)
class Member:
    id: str
    name: str
    roles: frozenset[str]


@dataclass(frozen=True)
class Domain:
    name: str
    description: str
    items: tuple[str, ...]  # fnmatch patterns over item ids, e.g. "kpi:*"
    approver_roles: frozenset[str]
    quorum: int

    def governs(self, item_id: str) -> bool:
        return any(fnmatch.fnmatchcase(item_id, pattern) for pattern in self.items)


@dataclass(frozen=True)
class GovernanceConfig:
    members: dict[str, Member]
    domains: tuple[Domain, ...]
    roles: dict[str, str]

    def domain_for(self, item_id: str) -> Domain:
        for domain in self.domains:
            if domain.governs(item_id):
                return domain
        raise GovernanceError(f"no domain in the governance config governs {item_id!r}")

    def member(self, member_id: str | None) -> Member:
        if not member_id:
            raise GovernanceError(
                "no identity: pass --as <member> or set NORTHSTAR_GOVERNANCE_USER "
                f"(members: {', '.join(sorted(self.members))})"
            )
        try:
            return self.members[member_id]
        except KeyError:
            raise GovernanceError(f"{member_id!r} is not a member of the governance body") from None

    def approvers(self, domain: Domain) -> list[str]:
        return sorted(m.id for m in self.members.values() if m.roles & domain.approver_roles)


def parse_config(text: str, *, source: str = "catalog/governance.yaml") -> GovernanceConfig:
    """Parse and check a governance config: unique members, known roles, a quorum the domain can reach."""
    document: dict[str, Any] = yaml.safe_load(text) or {}
    roles = {str(k): str(v) for k, v in (document.get("roles") or {}).items()}
    members: dict[str, Member] = {}
    for raw in document.get("members") or []:
        member_id = str(raw.get("id") or "")
        if not member_id or member_id in members:
            raise GovernanceError(f"{source}: member ids must be present and unique ({member_id!r})")
        unknown = set(raw.get("roles") or []) - set(roles)
        if unknown:
            raise GovernanceError(f"{source}: member {member_id} has undeclared roles {sorted(unknown)}")
        members[member_id] = Member(member_id, str(raw.get("name", member_id)), frozenset(raw.get("roles") or []))
    domains = []
    for raw in document.get("domains") or []:
        domain = Domain(
            name=str(raw["name"]),
            description=str(raw.get("description", "")),
            items=tuple(raw.get("items") or []),
            approver_roles=frozenset(raw.get("approver_roles") or []),
            quorum=int(raw.get("quorum", 0)),
        )
        if domain.quorum < 1:
            raise GovernanceError(f"{source}: domain {domain.name} needs a quorum of at least 1")
        eligible = [m for m in members.values() if m.roles & domain.approver_roles]
        if len(eligible) < domain.quorum:
            raise GovernanceError(
                f"{source}: domain {domain.name} needs {domain.quorum} approvals but only {len(eligible)} members "
                f"hold {sorted(domain.approver_roles)}"
            )
        domains.append(domain)
    if not members or not domains:
        raise GovernanceError(f"{source}: needs members and domains")
    return GovernanceConfig(members=members, domains=tuple(domains), roles=roles)
