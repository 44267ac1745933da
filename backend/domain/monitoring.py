"""Smart monitoring rules (NX §33) as data, and the pure arithmetic of deciding a finding.

A rule is a code, a Chinese label and description, a threshold with its unit and optional parameters; the
document lives in backend/policies/monitoring/rules.json. What each code measures is computed by the service
from the database; whether a measurement is a finding is decided here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

KNOWN_RULES = ("relative_payments_per_day", "refund_soon_after_settlement", "institution_account_share_jump",
               "invoice_at_two_institutions")
# Rules whose finding is a measurement at or *below* the threshold (a refund within N minutes).
AT_MOST_RULES = frozenset({"refund_soon_after_settlement"})
BASIS_POINTS = 10_000


class InvalidRules(ValueError):
    """The rules document is malformed; the message lists every problem."""


@dataclass(frozen=True)
class Rule:
    code: str
    label: str
    description: str
    threshold: int
    unit: str
    enabled: bool = True
    params: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))

    def is_finding(self, measured: int) -> bool:
        if self.code in AT_MOST_RULES:
            return measured <= self.threshold
        return measured >= self.threshold


def parse_rules(document: Mapping[str, Any]) -> tuple[Rule, ...]:
    problems, rules = [], []
    for index, item in enumerate(document.get("rules") or []):
        code = item.get("code")
        if code not in KNOWN_RULES:
            problems.append(f"rules[{index}].code: unknown rule {code!r}")
            continue
        threshold = item.get("threshold")
        if not isinstance(threshold, int) or isinstance(threshold, bool) or threshold < 0:
            problems.append(f"rules[{index}].threshold: a non-negative integer is required")
            continue
        known = {"code", "label", "description", "threshold", "unit", "enabled"}
        rules.append(Rule(code, str(item.get("label") or code), str(item.get("description") or ""), threshold,
                          str(item.get("unit") or ""), bool(item.get("enabled", True)),
                          MappingProxyType({k: v for k, v in item.items() if k not in known})))
    codes = [rule.code for rule in rules]
    if len(set(codes)) != len(codes):
        problems.append("rules: each code may appear once")
    if problems:
        raise InvalidRules("; ".join(problems))
    return tuple(rules)


def share_bp(part_fen: int, total_fen: int) -> int:
    """A part of a total in basis points (1/10000), rounded half up; 0 of nothing is 0."""
    if total_fen <= 0:
        return 0
    return (part_fen * BASIS_POINTS * 2 + total_fen) // (2 * total_fen)


def share_jump_bp(this_part: int, this_total: int, last_part: int, last_total: int) -> int:
    """How many basis points the share rose month on month (negative when it fell)."""
    return share_bp(this_part, this_total) - share_bp(last_part, last_total)
