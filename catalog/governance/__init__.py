"""Governance of the catalog: proposals, approvals bound to content hashes, quorum per domain, and a hash-chained
decision ledger (``catalog/governance/ledger.jsonl``) that the pipeline consults before it publishes.

Plain Python: ``northstar catalog propose | diff | approve | reject | status | verify`` (catalog/cli.py), the apps
and the pipeline all call the functions exported here. See docs/governance.md for the walkthrough.
"""

from catalog.governance.config import GovernanceConfig, GovernanceError, parse_config
from catalog.governance.workflow import (
    Governance,
    GovernedContent,
    ItemStatus,
    Proposal,
    PublicationStatus,
    Review,
    Workspace,
    governed_content,
    items_in_use,
    publication_status,
)

__all__ = [
    "Governance",
    "GovernanceConfig",
    "GovernanceError",
    "GovernedContent",
    "ItemStatus",
    "Proposal",
    "PublicationStatus",
    "Review",
    "Workspace",
    "governed_content",
    "items_in_use",
    "parse_config",
    "publication_status",
]
