"""The periodic allocation of individual-account credits (NX §5, NM §3)."""

from backend.jobs import job
from backend.services import credits


@job("allocate_credits", queue="low")
def allocate_credits(period: str | None = None) -> list[dict]:
    """Allocate ``period``, or by default the previous and the current month: contributions arrive with the
    nightly import, so a month is credited as soon as it is paid, and a late payment for last month still counts.
    Safe to run any number of times (one credit per account and period)."""
    this_month = credits.month_of(credits.local_today())
    periods = [period] if period else [credits.previous_month(this_month), this_month]
    return [credits.allocate(p).as_dict() for p in periods]
