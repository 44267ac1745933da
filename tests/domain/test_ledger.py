from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backend.domain import ledger
from backend.domain.ledger import (
    Book,
    Entry,
    InsufficientBalance,
    NonPositiveAmount,
    PostingDraft,
    PostingKind,
    RefundExceedsOriginal,
    Side,
    UnbalancedPosting,
    UnknownAccount,
)

D, C = Side.DEBIT, Side.CREDIT


def lines(draft):
    """The entries as (Chinese account name, side, amount), the way NX §31 writes them."""
    return Counter((ledger.account_for(e.account_code).name, e.side, e.amount) for e in draft.entries)


def net_by_account(*drafts):
    net = Counter()
    for draft in drafts:
        for e in draft.entries:
            net[e.account_code] += e.amount if e.side is D else -e.amount
    return {code: amount for code, amount in net.items() if amount}


def personal_balance_after(*drafts, account_id=7, start=0):
    balance = start
    for draft in drafts:
        balance = ledger.apply_to_balance(balance, draft, ledger.personal_account_code(account_id))
    return balance


# --- NX §31 -----------------------------------------------------------------------------------------------------
def test_the_nx31_fund_accounts_carry_the_names_the_policy_writes():
    names = {code: account.name for code, account in ledger.CHART.items()}
    assert names[ledger.EMPLOYEE_RESIDENT_CONTRIBUTION_EXPENSE] == "基本医疗保险待遇支出/个人账户基金支出/居民医保缴费支出"
    assert names[ledger.EMPLOYEE_LTC_CONTRIBUTION_EXPENSE] == "基本医疗保险待遇支出/个人账户基金支出/长护险缴费支出"
    assert names[ledger.EMPLOYEE_EXPENDITURE_DEPOSIT] == "支出户存款"
    assert names[ledger.RESIDENT_TREASURY_DEPOSIT] == "国库存款"
    assert names[ledger.RESIDENT_INDIVIDUAL_CONTRIBUTION_INCOME] == "基本医疗保险费收入/个人缴费收入"
    assert names[ledger.LTC_TREASURY_DEPOSIT] == "国库存款"
    assert names[ledger.LTC_CONTRIBUTION_INCOME] == "长护险保险费收入"


def test_a_relatives_resident_contribution_books_nx31_entries_1_and_2_and_debits_the_personal_account():
    draft = ledger.resident_contribution_for_relative(7, "spouse:42", 38_000, "resident:7:2025:42")

    assert draft.kind is PostingKind.RESIDENT_CONTRIBUTION
    assert draft.business_key == "resident:7:2025:42"
    assert lines(draft) == Counter({
        ("基本医疗保险待遇支出/个人账户基金支出/居民医保缴费支出", D, 38_000): 1,  # NX §31 entry 1
        ("支出户存款", C, 38_000): 1,
        ("国库存款", D, 38_000): 1,  # NX §31 entry 2
        ("基本医疗保险费收入/个人缴费收入", C, 38_000): 1,
        ("个人账户", D, 38_000): 1,
        ("个人账户支付家庭成员居民医保缴费", C, 38_000): 1,
    })
    assert personal_balance_after(draft, start=50_000) == 50_000 - 38_000


def test_an_ltc_contribution_books_nx31_entries_3_and_4_and_debits_the_personal_account():
    draft = ledger.ltc_contribution(7, 9_000, "ltc:7:2025")

    assert lines(draft) == Counter({
        ("基本医疗保险待遇支出/个人账户基金支出/长护险缴费支出", D, 9_000): 1,  # NX §31 entry 3
        ("支出户存款", C, 9_000): 1,
        ("国库存款", D, 9_000): 1,  # NX §31 entry 4
        ("长护险保险费收入", C, 9_000): 1,
        ("个人账户", D, 9_000): 1,
        ("个人账户支付长护险缴费", C, 9_000): 1,
    })
    assert personal_balance_after(draft, start=9_000) == 0


def test_the_fund_entries_of_nx31_land_in_the_fund_they_name():
    resident = ledger.resident_contribution_for_relative(7, "father:3", 100, "k1")
    ltc = ledger.ltc_contribution(7, 100, "k2")
    books = {(e.account_code, ledger.account_for(e.account_code).book) for e in resident.entries + ltc.entries}

    assert (ledger.EMPLOYEE_EXPENDITURE_DEPOSIT, Book.EMPLOYEE_FUND) in books
    assert (ledger.RESIDENT_TREASURY_DEPOSIT, Book.RESIDENT_FUND) in books
    assert (ledger.LTC_TREASURY_DEPOSIT, Book.LTC_FUND) in books
    assert ("personal:7", Book.PERSONAL) in books


# --- credits ----------------------------------------------------------------------------------------------------
def test_a_monthly_credit_is_keyed_by_account_and_month_and_raises_the_balance():
    draft = ledger.monthly_credit(7, "2025-03", 12_345)

    assert draft.business_key == "credit:7:2025-03"
    assert draft.kind is PostingKind.MONTHLY_CREDIT
    assert personal_balance_after(draft, start=100) == 100 + 12_345


@pytest.mark.parametrize("period", ["2025-3", "2025-13", "2025-00", "202503", "2025-03-01", ""])
def test_a_monthly_credit_needs_a_real_month(period):
    with pytest.raises(ValueError):
        ledger.monthly_credit(7, period, 100)


def test_a_flexible_workers_lump_credit_is_keyed_by_the_months_it_covers():
    draft = ledger.lump_credit(7, "2025-01", "2025-12", 240_000)

    assert draft.business_key == "lump_credit:7:2025-01..2025-12"
    assert personal_balance_after(draft) == 240_000
    with pytest.raises(ValueError):
        ledger.lump_credit(7, "2025-12", "2025-01", 240_000)


def test_an_opening_balance_has_one_key_per_account_so_a_reimport_cannot_repeat_it():
    first, second = ledger.opening_balance(7, 500), ledger.opening_balance(7, 900)
    assert first.business_key == second.business_key == "opening:7"
    assert personal_balance_after(first) == 500


@pytest.mark.parametrize("amount", [0, -1])
@pytest.mark.parametrize("build", [
    lambda amount: ledger.monthly_credit(7, "2025-01", amount),
    lambda amount: ledger.opening_balance(7, amount),
    lambda amount: ledger.account_payment(7, "S1", amount, "own"),
    lambda amount: ledger.resident_contribution_for_relative(7, "son:9", amount, "k"),
    lambda amount: ledger.transfer_out(7, amount, "k"),
    lambda amount: ledger.one_time_payout(7, amount, "k"),
])
def test_no_posting_moves_zero_or_a_negative_amount(build, amount):
    with pytest.raises(NonPositiveAmount):
        build(amount)


@pytest.mark.parametrize("amount", [1.5, "100", True])
def test_amounts_must_be_integer_fen(amount):
    with pytest.raises(TypeError):
        ledger.monthly_credit(7, "2025-01", amount)


@pytest.mark.parametrize("account_id", ["", "a:b", " 7"])
def test_an_account_id_that_would_make_an_ambiguous_code_is_refused(account_id):
    with pytest.raises(ValueError):
        ledger.personal_account_code(account_id)


# --- payments ---------------------------------------------------------------------------------------------------
def test_a_shared_payment_is_booked_apart_from_the_owners_own_spending():
    own = ledger.account_payment(7, "S1", 3_000, "own")
    shared = ledger.account_payment(8, "S1", 2_000, "shared")

    assert own.business_key == "payment:S1:7"
    assert shared.business_key == "payment:S1:8"
    assert net_by_account(own) == {"personal:7": 3_000, ledger.CLEARING_MEDICAL_OWN: -3_000}
    assert net_by_account(shared) == {"personal:8": 2_000, ledger.CLEARING_MEDICAL_SHARED: -2_000}


def test_a_payer_role_other_than_own_or_shared_is_refused():
    with pytest.raises(ValueError):
        ledger.account_payment(7, "S1", 100, "employer")


def test_paying_more_than_the_balance_is_insufficient_and_says_by_how_much():
    payment = ledger.account_payment(7, "S1", 1_500, "own")

    with pytest.raises(InsufficientBalance) as refused:
        personal_balance_after(payment, start=1_000)
    assert refused.value.shortfall == 500


def test_a_transfer_out_or_a_payout_of_the_whole_balance_leaves_the_account_empty():
    balance = 8_800
    assert personal_balance_after(ledger.transfer_out(7, balance, "transfer:7"), start=balance) == 0
    assert personal_balance_after(ledger.one_time_payout(7, balance, "payout:7"), start=balance) == 0


# --- balance checks ---------------------------------------------------------------------------------------------
def test_a_posting_whose_debits_and_credits_differ_is_refused():
    draft = PostingDraft("k", PostingKind.REVERSAL, "", (
        Entry("personal:7", D, 100),
        Entry(ledger.CLEARING_MEDICAL_OWN, C, 99),
    ))
    with pytest.raises(UnbalancedPosting):
        ledger.assert_balanced(draft)


def test_a_posting_balanced_only_across_two_funds_is_refused():
    # Each fund is its own accounting entity: money leaving one must be booked as leaving it (NX §31).
    draft = PostingDraft("k", PostingKind.RESIDENT_CONTRIBUTION, "", (
        Entry(ledger.EMPLOYEE_RESIDENT_CONTRIBUTION_EXPENSE, D, 100),
        Entry(ledger.RESIDENT_INDIVIDUAL_CONTRIBUTION_INCOME, C, 100),
    ))
    with pytest.raises(UnbalancedPosting):
        ledger.assert_balanced(draft)


def test_a_posting_without_entries_or_on_an_unknown_account_is_refused():
    with pytest.raises(UnbalancedPosting):
        ledger.assert_balanced(PostingDraft("k", PostingKind.REVERSAL, "", ()))
    with pytest.raises(UnknownAccount):
        ledger.assert_balanced(PostingDraft("k", PostingKind.REVERSAL, "", (
            Entry("cash_box", D, 1), Entry("personal:7", C, 1),
        )))


# --- corrections ------------------------------------------------------------------------------------------------
builders = st.sampled_from([
    lambda amount: ledger.monthly_credit(7, "2025-01", amount),
    lambda amount: ledger.lump_credit(7, "2025-01", "2025-06", amount),
    lambda amount: ledger.account_payment(7, "S1", amount, "shared"),
    lambda amount: ledger.resident_contribution_for_relative(7, "mother:5", amount, "k"),
    lambda amount: ledger.ltc_contribution(7, amount, "k"),
    lambda amount: ledger.one_time_payout(7, amount, "k"),
])


@given(build=builders, amount=st.integers(min_value=1, max_value=10**9))
def test_a_reversal_is_a_new_balanced_posting_that_nets_every_account_to_zero(build, amount):
    original = build(amount)
    correction = ledger.reversal(original, f"reversal:{original.business_key}")

    assert correction.kind is PostingKind.REVERSAL
    assert correction.business_key != original.business_key
    assert net_by_account(original, correction) == {}


def test_a_partial_refund_returns_that_much_to_the_account_along_the_original_accounts():
    payment = ledger.account_payment(7, "S1", 3_000, "shared")
    refund = ledger.refund_of(payment, 1_200, "refund:R1:7")

    assert refund.kind is PostingKind.REFUND
    assert net_by_account(payment, refund) == {"personal:7": 3_000 - 1_200, ledger.CLEARING_MEDICAL_SHARED: -1_800}
    assert personal_balance_after(payment, refund, start=3_000) == 1_200


def test_a_refund_larger_than_the_original_is_refused():
    payment = ledger.account_payment(7, "S1", 3_000, "own")
    with pytest.raises(RefundExceedsOriginal):
        ledger.refund_of(payment.entries, 3_001, "refund:R1:7")


@given(
    original_amount=st.integers(min_value=1, max_value=10_000),
    requests=st.lists(st.integers(min_value=1, max_value=10_000), max_size=6),
)
def test_refunds_together_never_exceed_the_original(original_amount, requests):
    payment = ledger.account_payment(7, "S1", original_amount, "own")
    refunded = 0
    for n, amount in enumerate(requests):
        try:
            ledger.refund_of(payment, amount, f"refund:{n}", already_refunded=refunded)
        except RefundExceedsOriginal:
            assert refunded + amount > original_amount
        else:
            refunded += amount
    assert refunded <= original_amount


def test_a_partial_refund_needs_an_original_that_moves_one_amount():
    mixed = (Entry("personal:7", D, 100), Entry(ledger.CLEARING_MEDICAL_OWN, C, 60),
             Entry(ledger.CLEARING_MEDICAL_SHARED, C, 40))
    with pytest.raises(ValueError):
        ledger.refund_of(mixed, 10, "refund:x")
