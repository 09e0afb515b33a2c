"""The quirk report: every oddity of the public datasets an adapter found, how often, and what it did about it.

Adapters never fix a dataset silently. Each quirk is counted, described with its handling and a few examples, printed
while the network is generated and written to `simulator/public/quirks.json`, so a reviewer sees what the pipeline
was given and what the adapter changed.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class Quirk:
    dataset: str
    quirk: str
    count: int
    handling: str
    examples: tuple[str, ...] = ()


@dataclass
class QuirkReport:
    quirks: list[Quirk] = field(default_factory=list)

    def add(self, dataset: str, quirk: str, count: int, handling: str, examples: list[str] | None = None) -> None:
        self.quirks.append(Quirk(dataset, quirk, count, handling, tuple((examples or [])[:5])))

    def count(self, dataset: str, quirk: str) -> int:
        return sum(q.count for q in self.quirks if q.dataset == dataset and q.quirk == quirk)

    def lines(self) -> list[str]:
        return [f"quirk {q.dataset}/{q.quirk}: {q.count} -> {q.handling}" for q in self.quirks]

    def content(self) -> bytes:
        return (json.dumps([asdict(q) for q in self.quirks], indent=2, ensure_ascii=False) + "\n").encode("utf-8")
