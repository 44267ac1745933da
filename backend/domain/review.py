"""Multi-step staff review of applications, driven by workflow data (pure).

An application starts ``submitted`` in its workflow's first step. Each approve moves it to the next step
(``in_review``) and the last one makes it ``approved``; workflows that end in a payment then become ``paid``.
``reject`` ends it; ``return`` hands it back to the applicant (``returned``), and the supplement starts the review
again at the first step. The applicant may ``withdraw`` only before the first decision.

Decisions: ``approve`` (no reason code); ``reject`` (a code from ``REASON_CODES`` and a comment for the
applicant); ``return`` (a comment naming the missing material, optionally a reason code).

Separation of duties: a staff member acts on one step of an application only, over its whole history — after a
return the same first reviewer may check the supplement, but may never also sign it off.

Errors carry a stable ``reason``; the API maps WrongRole and AlreadyActedOnAnotherStep to 403,
InvalidTransition to 409 and ReasonRequired to 422.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Hashable, Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from types import MappingProxyType


class Role(StrEnum):
    FIRST_REVIEWER = "first_reviewer"
    SECOND_REVIEWER = "second_reviewer"
    LEADER = "leader"


class ApplicationType(StrEnum):
    REIMBURSEMENT = "reimbursement"
    PAYOUT = "payout"
    CHRONIC_CAP_ADJUST = "chronic_cap_adjust"


class ReviewStatus(StrEnum):
    SUBMITTED = "submitted"
    IN_REVIEW = "in_review"
    APPROVED = "approved"
    PAID = "paid"
    REJECTED = "rejected"
    RETURNED = "returned"
    WITHDRAWN = "withdrawn"


class Decision(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    RETURN = "return"


REASON_CODES = MappingProxyType({
    "materials_incomplete": "材料不全",
    "invoice_duplicate": "发票重复报销",
    "not_eligible": "不符合待遇享受条件",
    "amount_mismatch": "申报金额与票据不符",
    "self_paid_by_choice": "在区内定点机构因本人原因自费结算，不予手工报销",  # NX §22
    "other": "其他",
})


class ReviewError(Exception):
    reason = "review_error"
    message = "审核操作有误"

    def __init__(self, detail: str | None = None):
        super().__init__(detail or self.message)
        self.detail = detail


class WrongRole(ReviewError):
    reason, message = "wrong_role", "您的岗位不能办理该审核环节"


class AlreadyActedOnAnotherStep(ReviewError):
    reason, message = "already_acted_on_another_step", "您已办理过该申请的其他审核环节，须由他人办理"


class InvalidTransition(ReviewError):
    reason, message = "invalid_transition", "该申请当前状态不允许此操作"


class ReasonRequired(ReviewError):
    reason, message = "reason_required", "请填写审核理由"


@dataclass(frozen=True)
class Step:
    name: str
    role: Role
    label: str


@dataclass(frozen=True)
class Workflow:
    application_type: ApplicationType
    steps: tuple[Step, ...]
    ends_in_payment: bool

    def __post_init__(self) -> None:
        names = [step.name for step in self.steps]
        if not names or len(set(names)) != len(names):
            raise ValueError(f"{self.application_type}: steps must be non-empty with distinct names")


FIRST_REVIEW = Step("first_review", Role.FIRST_REVIEWER, "初审")
SECOND_REVIEW = Step("second_review", Role.SECOND_REVIEWER, "复审")
SIGN_OFF = Step("sign_off", Role.LEADER, "审签")

WORKFLOWS: Mapping[ApplicationType, Workflow] = MappingProxyType({
    # 零星报销 pays money out of the pool, so it gets the agency's full three-step chain.
    ApplicationType.REIMBURSEMENT: Workflow(
        ApplicationType.REIMBURSEMENT, (FIRST_REVIEW, SECOND_REVIEW, SIGN_OFF), ends_in_payment=True
    ),
    # NX §9: 经办（初审）、复审、部门领导审签. Paid to the applicant's bank account, unless the account continues in
    # use — then ``approved`` is final.
    ApplicationType.PAYOUT: Workflow(
        ApplicationType.PAYOUT, (FIRST_REVIEW, SECOND_REVIEW, SIGN_OFF), ends_in_payment=True
    ),
    # NX §17: the 二甲+ hospital (or agency) that accepts the request has already registered and assessed the
    # medical need; the agency reviews "按程序". No money moves, but the new cap takes effect at once when approved,
    # so two people are required (maker–checker) and a leader signs it off.
    ApplicationType.CHRONIC_CAP_ADJUST: Workflow(
        ApplicationType.CHRONIC_CAP_ADJUST, (FIRST_REVIEW, SIGN_OFF), ends_in_payment=False
    ),
})


@dataclass(frozen=True)
class Actor:
    staff_id: Hashable
    roles: frozenset[str]


@dataclass(frozen=True)
class StepRecord:
    step: str
    staff_id: Hashable
    decision: Decision
    reason_code: str | None
    comment: str | None
    entered_at: dt.datetime  # when the application reached this step
    decided_at: dt.datetime

    @property
    def time_in_step(self) -> dt.timedelta:
        return self.decided_at - self.entered_at


@dataclass(frozen=True)
class ReviewState:
    status: ReviewStatus
    step_index: int | None  # the step awaiting a decision; None once out of review
    since: dt.datetime  # when this status (and step) began
    history: tuple[StepRecord, ...] = ()


def submit(at: dt.datetime) -> ReviewState:
    return ReviewState(ReviewStatus.SUBMITTED, 0, at)


def current_step(workflow: Workflow, state: ReviewState) -> Step:
    if state.status not in (ReviewStatus.SUBMITTED, ReviewStatus.IN_REVIEW) or state.step_index is None:
        raise InvalidTransition(f"not awaiting review: {state.status}")
    return workflow.steps[state.step_index]


def ensure_may_act(workflow: Workflow, state: ReviewState, actor: Actor) -> Step:
    """The step the actor may decide now, or the reason they may not (also usable to filter work queues)."""
    step = current_step(workflow, state)
    if step.role not in actor.roles:
        raise WrongRole(f"{step.name} needs role {step.role}")
    if any(record.staff_id == actor.staff_id and record.step != step.name for record in state.history):
        raise AlreadyActedOnAnotherStep(f"staff {actor.staff_id} already acted on another step")
    return step


def decide(
    workflow: Workflow,
    state: ReviewState,
    actor: Actor,
    decision: Decision | str,
    reason_code: str | None,
    comment: str | None,
    at: dt.datetime,
) -> tuple[ReviewState, StepRecord]:
    decision = Decision(decision)
    step = ensure_may_act(workflow, state, actor)
    comment = _required_inputs(decision, reason_code, comment)
    if at < state.since:
        raise ValueError("a decision cannot precede the step it decides")
    record = StepRecord(step.name, actor.staff_id, decision, reason_code, comment, state.since, at)
    history = (*state.history, record)
    return _next_state(workflow, state, decision, at, history), record


def supplement(state: ReviewState, at: dt.datetime) -> ReviewState:
    """The applicant supplied the missing material: the review starts again at the first step."""
    _require_status(state, ReviewStatus.RETURNED)
    return replace(state, status=ReviewStatus.IN_REVIEW, step_index=0, since=at)


def withdraw(state: ReviewState, at: dt.datetime) -> ReviewState:
    """Only before anyone decided anything: a decision already on record stays part of the case."""
    _require_status(state, ReviewStatus.SUBMITTED)
    return replace(state, status=ReviewStatus.WITHDRAWN, step_index=None, since=at)


def mark_paid(workflow: Workflow, state: ReviewState, at: dt.datetime) -> ReviewState:
    if not workflow.ends_in_payment:
        raise InvalidTransition(f"{workflow.application_type} applications are not paid out")
    _require_status(state, ReviewStatus.APPROVED)
    return replace(state, status=ReviewStatus.PAID, since=at)


def _required_inputs(decision: Decision, reason_code: str | None, comment: str | None) -> str | None:
    """Check what each decision must carry; returns the comment stripped (None when blank)."""
    comment = (comment or "").strip() or None
    if reason_code is not None and reason_code not in REASON_CODES:
        raise ReasonRequired(f"unknown reason code: {reason_code}")
    if decision is Decision.APPROVE and reason_code is not None:
        raise ReasonRequired("an approval takes no reason code")
    if decision is Decision.REJECT and reason_code is None:
        raise ReasonRequired("a rejection needs a reason code")
    if decision is not Decision.APPROVE and comment is None:
        # A rejection is explained to the applicant; a return says which material is missing.
        raise ReasonRequired(f"{decision} needs a comment")
    return comment


def _next_state(
    workflow: Workflow,
    state: ReviewState,
    decision: Decision,
    at: dt.datetime,
    history: tuple[StepRecord, ...],
) -> ReviewState:
    if decision is Decision.REJECT:
        return ReviewState(ReviewStatus.REJECTED, None, at, history)
    if decision is Decision.RETURN:
        return ReviewState(ReviewStatus.RETURNED, None, at, history)
    next_index = state.step_index + 1
    if next_index == len(workflow.steps):
        return ReviewState(ReviewStatus.APPROVED, None, at, history)
    return ReviewState(ReviewStatus.IN_REVIEW, next_index, at, history)


def _require_status(state: ReviewState, expected: ReviewStatus) -> None:
    if state.status != expected:
        raise InvalidTransition(f"expected {expected}, found {state.status}")
