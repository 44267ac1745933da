"""Family sharing of the individual account (家庭共济, NX §6–§7, §12; NM §4), as pure rules.

- Who may be authorised is policy data: the caller passes the relationship set of the policy version in force
  (NX §6 names spouse, parents including the spouse's parents, children; the 2024 national rule widened it to all
  近亲属 — a new policy version, not new code). ``RELATIONS`` is the canonical vocabulary those sets use.
- The stated relation must agree with both ID numbers (birth dates, sex digit): ``backend.domain.relations``.
- A grant or revoke takes effect at once (NX §6), so the caller reads the active grants at the moment of each
  payment and never from a cache.
- Paying: the relative's own account first, then the authorisers' accounts in the order the grants were made,
  the rest in cash. The authorisers' part is ``acct_mulaid_pay`` in the national platform's 2207 names.
- Shared payments never count toward the owner's (authoriser's) deductible or caps (NX §12): they are the
  relative's medical costs, so the settlement service books them only to the relative's accumulators.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from backend.domain.relations import PROBLEM_MESSAGES, RelationProblem, relation_problem

RELATIONS = frozenset({
    "spouse", "father", "mother", "father_in_law", "mother_in_law", "son", "daughter",
    "sibling", "grandparent", "grandchild",
})
# Chinese names, in the order choices are offered to people.
RELATION_LABELS = {
    "spouse": "配偶", "father": "父亲", "mother": "母亲", "father_in_law": "配偶的父亲", "mother_in_law": "配偶的母亲",
    "son": "儿子", "daughter": "女儿", "sibling": "兄弟姐妹", "grandparent": "祖父母/外祖父母",
    "grandchild": "孙子女/外孙子女",
}

# Insured here means the insurance relationship exists. Arrears (欠费) do not end it — NM §13 only pauses
# general outpatient pooling until paid up — and the account may pay the relative's contribution (NM §4), so a
# relative in arrears may receive; suspended and terminated relationships may not.
STATUSES_THAT_MAY_RECEIVE = frozenset({"active", "arrears"})


class RefusalReason(StrEnum):
    SELF_GRANT = "self_grant"
    RELATION_NOT_ALLOWED = "relation_not_allowed"
    RELATIVE_NOT_INSURED = "relative_not_insured"
    DIFFERENT_REGION = "different_region"
    RELATION_AGE_IMPLAUSIBLE = str(RelationProblem.AGE_IMPLAUSIBLE)
    RELATION_SEX_MISMATCH = str(RelationProblem.SEX_MISMATCH)
    ALREADY_GRANTED = "already_granted"  # a conflict with the current state, unlike the others


REFUSAL_MESSAGES = {
    RefusalReason.SELF_GRANT: "不能授权给本人",
    RefusalReason.RELATION_NOT_ALLOWED: "该亲属关系不在现行政策允许的共济范围内",
    RefusalReason.RELATIVE_NOT_INSURED: "被授权的家庭成员当前不在参保状态",
    RefusalReason.DIFFERENT_REGION: "被授权的家庭成员须与您在同一地区参保",
    RefusalReason.RELATION_AGE_IMPLAUSIBLE: PROBLEM_MESSAGES[RelationProblem.AGE_IMPLAUSIBLE],
    RefusalReason.RELATION_SEX_MISMATCH: PROBLEM_MESSAGES[RelationProblem.SEX_MISMATCH],
    RefusalReason.ALREADY_GRANTED: "已向该家庭成员授权，请勿重复授权",
}


class SharingRefused(Exception):
    def __init__(self, reason: RefusalReason):
        self.reason = reason
        self.message = REFUSAL_MESSAGES[reason]
        super().__init__(self.message)


@dataclass(frozen=True)
class PersonSnapshot:
    person_id: Hashable
    region: str  # "nx" | "nm": sharing is region-wide, not per 统筹区 (NX §6 "在自治区范围内")
    status: str  # "active" | "arrears" | "suspended" | "terminated"
    id_number: str | None = None  # validated; with both parties' numbers the relation is checked against them


def check_grant(
    owner: PersonSnapshot,
    relative: PersonSnapshot,
    relation: str,
    allowed_relations: frozenset[str],
    active_grant_relatives: frozenset,
) -> None:
    """Refuse a grant the policy does not allow; ``active_grant_relatives`` are the owner's current grantees."""
    if owner.person_id == relative.person_id:
        raise SharingRefused(RefusalReason.SELF_GRANT)
    if relation not in allowed_relations:
        raise SharingRefused(RefusalReason.RELATION_NOT_ALLOWED)
    if owner.id_number and relative.id_number:
        problem = relation_problem(owner.id_number, relative.id_number, relation)
        if problem is not None:
            raise SharingRefused(RefusalReason(str(problem)))
    if relative.status not in STATUSES_THAT_MAY_RECEIVE:
        raise SharingRefused(RefusalReason.RELATIVE_NOT_INSURED)
    if relative.region != owner.region:
        raise SharingRefused(RefusalReason.DIFFERENT_REGION)
    if relative.person_id in active_grant_relatives:
        raise SharingRefused(RefusalReason.ALREADY_GRANTED)


@dataclass(frozen=True)
class PaymentSplit:
    own: int  # acct_pay: the relative's own account
    shared: tuple[tuple[Hashable, int], ...]  # (grant_id, amount) for each authoriser's account that paid
    cash: int  # psn_cash_pay

    @property
    def acct_mulaid_pay(self) -> int:
        return sum(amount for _, amount in self.shared)


def split_account_payment(
    amount_payable: int, own_balance: int, sharer_balances: Sequence[tuple[Hashable, int]]
) -> PaymentSplit:
    """Split what the person pays: own account, then authorisers in grant order, then cash.

    ``sharer_balances`` must come in the order the grants were made; an account that pays nothing is left out.
    """
    _require_fen(amount_payable)
    _require_fen(own_balance)
    own = min(own_balance, amount_payable)
    remaining = amount_payable - own
    shared: list[tuple[Hashable, int]] = []
    for grant_id, balance in sharer_balances:
        _require_fen(balance)
        drawn = min(balance, remaining)
        if drawn:
            shared.append((grant_id, drawn))
            remaining -= drawn
    return PaymentSplit(own=own, shared=tuple(shared), cash=remaining)


def _require_fen(amount: int) -> None:
    if isinstance(amount, bool) or not isinstance(amount, int) or amount < 0:
        raise ValueError(f"amounts are non-negative integer fen, got {amount!r}")
