"""Monthly and lump credits to individual accounts (NX §5, NM §3), allocated set-based and safe to run twice."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import case, func, select, text

from backend.domain.money import apply_share
from backend.errors import Unprocessable
from backend.extensions import db
from backend.models import IndividualAccount, LedgerEntry, LedgerPosting
from backend.services import accounts, credits

TODAY = dt.date(2026, 11, 22)


def balance(person) -> int:
    db.session.expire_all()
    return accounts.of_person(person.id).balance_fen


def credit_postings(person) -> list[LedgerPosting]:
    account = accounts.of_person(person.id)
    return list(db.session.scalars(
        select(LedgerPosting).join(LedgerEntry).where(
            LedgerEntry.individual_account_id == account.id,
            LedgerPosting.kind.in_(("monthly_credit", "lump_credit")))
        .order_by(LedgerPosting.id)))


def allocate(period: str, **kwargs):
    return credits.allocate(period, today=TODAY, **kwargs)


def assert_journal_matches_balances():
    signed = case((LedgerEntry.side == "credit", LedgerEntry.amount_fen), else_=-LedgerEntry.amount_fen)
    for account in db.session.scalars(select(IndividualAccount)):
        journal = db.session.scalar(select(func.coalesce(func.sum(signed), 0)).where(
            LedgerEntry.individual_account_id == account.id))
        assert account.balance_fen == journal >= 0
    for posting in db.session.scalars(select(LedgerPosting)):
        debits = sum(e.amount_fen for e in posting.entries if e.side == "debit")
        credits_ = sum(e.amount_fen for e in posting.entries if e.side == "credit")
        assert debits == credits_ > 0


def test_an_employee_is_credited_two_percent_of_the_base_once_the_month_has_been_paid(app, make_person):
    paid = make_person(contribution_base_fen=800_000, contribution_paid_through="2024-05")
    unpaid = make_person(contribution_base_fen=800_000, contribution_paid_through="2024-04")
    report = allocate("2024-05")
    # NX 2024 sample version: 2 % of an 8000-yuan base is 160 yuan.
    assert balance(paid) == 16_000
    assert balance(unpaid) == 0
    assert (report.monthly_credits, report.monthly_fen) == (1, 16_000)
    assert credit_postings(paid)[0].business_key == f"credit:{accounts.of_person(paid.id).id}:2024-05"


def test_allocating_the_same_period_twice_credits_once(app, make_person):
    person = make_person(contribution_base_fen=500_000, contribution_paid_through="2024-06")
    first = allocate("2024-06")
    second = allocate("2024-06")
    assert balance(person) == 10_000  # 2 % of 5000 yuan
    assert len(credit_postings(person)) == 1
    assert (first.monthly_credits, second.monthly_credits, second.monthly_fen) == (1, 0, 0)
    assert_journal_matches_balances()


def test_half_a_fen_is_rounded_up(app, make_person):
    person = make_person(contribution_base_fen=12_525, contribution_paid_through="2024-05")
    allocate("2024-05")
    assert balance(person) == 251  # 2 % of 125.25 yuan = 2.505 yuan → 2.51


def test_nm_retirees_get_three_percent_of_the_2021_average_pension_in_2022_and_two_percent_from_2023(
        app, make_person):
    retiree = make_person(region="nm", person_type="retired", contribution_base_fen=0)
    allocate("2022-12")
    after_december = balance(retiree)
    allocate("2023-01")
    # NM §3, sample base of 3500 yuan: 3 % is 105 yuan until 2022-12, 2 % is 70 yuan from 2023-01-01.
    assert after_december == 10_500
    assert balance(retiree) - after_december == 7_000


def test_nx_flexible_workers_get_one_lump_credit_once_the_whole_year_is_paid(app, make_person):
    paid_up = make_person(person_type="flexible", contribution_base_fen=400_000, contribution_paid_through="2024-12")
    half_paid = make_person(person_type="flexible", contribution_base_fen=400_000,
                            contribution_paid_through="2024-06")
    for period in ("2024-03", "2024-04", "2024-12"):
        allocate(period)
    # NX §5: 12 months × 4000 yuan × 2 % = 960 yuan, credited once, in one posting.
    assert balance(paid_up) == 96_000
    assert [p.kind for p in credit_postings(paid_up)] == ["lump_credit"]
    assert credit_postings(paid_up)[0].business_key.endswith(":2024-01..2024-12")
    assert balance(half_paid) == 0


def test_a_year_paid_up_in_january_is_credited_by_allocating_its_december(app, make_person):
    late = make_person(person_type="flexible", contribution_base_fen=300_000, contribution_paid_through="2025-01")
    report = allocate("2024-12")
    assert balance(late) == 72_000  # 12 × 3000 yuan × 2 % for 2024
    assert report.lump_credits == 1
    assert allocate("2025-01").lump_credits == 0  # 2025 is not paid up yet


def test_nm_flexible_workers_are_credited_monthly_like_employees(app, make_person):
    flexible = make_person(region="nm", person_type="flexible", contribution_base_fen=450_000,
                           contribution_paid_through="2024-02")
    allocate("2024-02")
    assert balance(flexible) == 9_000  # NM 2 % of 4500 yuan


def test_closed_accounts_and_ended_insurance_are_not_credited(app, make_person):
    closed = make_person(contribution_paid_through="2024-05")
    account = accounts.of_person(closed.id)
    account.status = "closed"
    terminated = make_person(status="terminated", contribution_paid_through="2024-05")
    db.session.commit()
    report = allocate("2024-05")
    assert report.monthly_credits == 0
    assert balance(terminated) == 0


def test_a_period_before_any_policy_version_credits_nobody_in_that_region(app, make_person):
    make_person(contribution_paid_through="2023-03")
    report = allocate("2023-03")
    assert "nx" in report.regions_without_policy and report.monthly_credits == 0


def test_future_and_malformed_periods_are_refused(app):
    cases = (("2026-12", "period_in_future"), ("2024-13", "period_invalid"), ("2024/05", "period_invalid"))
    for period, reason in cases:
        with pytest.raises(Unprocessable) as refused:
            allocate(period)
        assert refused.value.reason == reason


def test_chunks_give_the_same_credits_as_one_pass_and_report_progress(app, make_person):
    people = [make_person(contribution_base_fen=100_000 * (i + 1), contribution_paid_through="2024-05")
              for i in range(5)]
    covered = []
    report = allocate("2024-05", chunk_size=2, progress=covered.append)
    assert [balance(p) for p in people] == [apply_share(100_000 * (i + 1), 200) for i in range(5)]
    assert report.monthly_credits == 5
    first, last = credits.account_id_range()
    assert sum(covered) == last - first + 1
    assert_journal_matches_balances()


def test_the_journal_and_balances_agree_after_credits_on_top_of_opening_balances(app, make_person):
    make_person(opening_balance_fen=12_345, contribution_paid_through="2024-07")
    make_person(person_type="retired", opening_balance_fen=1)
    allocate("2024-07")
    assert_journal_matches_balances()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(base=st.integers(min_value=0, max_value=10**9), bp=st.integers(min_value=0, max_value=10_000))
def test_the_sql_share_rounds_exactly_like_apply_share(app, base, bp):
    sql = text("SELECT " + credits.half_up_share_sql("CAST(:base AS BIGINT)", "CAST(:bp AS BIGINT)"))
    assert db.session.scalar(sql, {"base": base, "bp": bp}) == apply_share(base, bp)


def test_the_allocate_command_reports_what_it_credited_and_refuses_a_bad_period(app, make_person):
    make_person(contribution_base_fen=500_000, contribution_paid_through="2024-05")
    runner = app.test_cli_runner()
    done = runner.invoke(args=["allocate", "--period", "2024-05"])
    assert done.exit_code == 0, done.output
    assert "2024-05: 1 monthly credit(s), 100.00 yuan" in done.output
    assert "allocating" not in done.output  # no progress bar when stdout is not a terminal
    again = runner.invoke(args=["allocate", "--period", "2024-05"])
    assert "0 monthly credit(s)" in again.output
    bad = runner.invoke(args=["allocate", "--period", "May"])
    assert bad.exit_code != 0 and "period_invalid" in bad.output


def test_the_daily_job_credits_the_previous_and_the_current_month(app, make_person):
    from backend.jobs.credits import allocate_credits

    this_month = credits.month_of(credits.local_today())
    person = make_person(contribution_base_fen=500_000, contribution_paid_through=this_month)
    reports = allocate_credits()
    assert [r["period"] for r in reports] == [credits.previous_month(this_month), this_month]
    assert balance(person) == 2 * 10_000
    assert allocate_credits()[1]["monthly_credits"] == 0
