"""Payments of approved applications, sent through the outbox after the sign-off commits."""

from backend.jobs import job
from backend.services import payouts, reimbursements


@job("pay_reimbursement", queue="default")
def pay_reimbursement(application_id: str) -> bool:
    """Pay an approved manual reimbursement; a second run finds it paid and does nothing."""
    return reimbursements.pay(application_id)


@job("pay_payout", queue="default")
def pay_payout(application_id: str) -> bool:
    """Pay out an approved one-time account payout; a second run finds it paid and does nothing."""
    return payouts.pay(application_id)
