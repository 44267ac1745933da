"""Double-entry journal rules for the individual account and the funds behind it (pure).

The database stores an append-only journal: a posting is one business event with a unique business key, made of
entries (account, debit or credit, amount in fen > 0). This module builds those postings and checks them.

Books (each one balances on its own inside every posting, so it also balances as a whole):

- ``personal`` — 个人账户明细账, the sub-ledger of the employee fund. One account per individual account,
  ``personal:<account_id>``, whose balance (credits − debits) is what the fund holds for the person and never goes
  below zero. Every movement on it is matched in the same book by a clearing account (``personal_clearing:*``)
  that says where the money came from or went; their totals reconcile with the fund's cash movements that settle
  them (institution clearing NX §10/§29, the transfer NX §8, the payout NX §9).
- ``employee_fund`` / ``resident_fund`` / ``ltc_fund`` — the fund ledgers, with the entries NX §31 prescribes
  when individual-account money pays a relative's 居民医保 contribution or a 长护险 contribution. Those
  payments are transfers between funds, so their fund entries belong to the same business event.

A correction is a new posting with debits and credits swapped; a refund swaps part of an original posting and
never more than it (DESIGN §2, NX §28).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum


class Side(StrEnum):
    DEBIT = "debit"
    CREDIT = "credit"

    @property
    def opposite(self) -> Side:
        return Side.CREDIT if self is Side.DEBIT else Side.DEBIT


class Book(StrEnum):
    PERSONAL = "personal"
    EMPLOYEE_FUND = "employee_fund"
    RESIDENT_FUND = "resident_fund"
    LTC_FUND = "ltc_fund"


BOOK_NAMES = {
    Book.PERSONAL: "个人账户明细账",
    Book.EMPLOYEE_FUND: "职工基本医疗保险基金",
    Book.RESIDENT_FUND: "城乡居民基本医疗保险基金",
    Book.LTC_FUND: "长护险基金",
}


class PostingKind(StrEnum):
    MONTHLY_CREDIT = "monthly_credit"
    LUMP_CREDIT = "lump_credit"
    OPENING_BALANCE = "opening_balance"
    ACCOUNT_PAYMENT = "account_payment"
    RESIDENT_CONTRIBUTION = "resident_contribution"
    LTC_CONTRIBUTION = "ltc_contribution"
    TRANSFER_OUT = "transfer_out"
    ONE_TIME_PAYOUT = "one_time_payout"
    REVERSAL = "reversal"
    REFUND = "refund"


class PayerRole(StrEnum):
    OWN = "own"  # the account pays for its owner
    SHARED = "shared"  # the account pays for an authorised relative (家庭共济, NX §6)


class LedgerError(ValueError):
    reason = "ledger_error"


class UnbalancedPosting(LedgerError):
    reason = "unbalanced_posting"


class NonPositiveAmount(LedgerError):
    reason = "non_positive_amount"


class RefundExceedsOriginal(LedgerError):
    reason = "refund_exceeds_original"


class UnknownAccount(LedgerError):
    reason = "unknown_account"


class InsufficientBalance(LedgerError):
    reason = "insufficient_balance"

    def __init__(self, account_code: str, balance: int, shortfall: int):
        super().__init__(f"{account_code}: balance {balance} fen, short by {shortfall} fen")
        self.account_code = account_code
        self.balance = balance
        self.shortfall = shortfall


@dataclass(frozen=True)
class Account:
    code: str
    name: str
    book: Book
    normal_side: Side  # the side that increases the balance


@dataclass(frozen=True)
class Entry:
    account_code: str
    side: Side
    amount: int  # fen, > 0


@dataclass(frozen=True)
class PostingDraft:
    business_key: str
    kind: PostingKind
    memo: str
    entries: tuple[Entry, ...]


# --- chart of accounts --------------------------------------------------------------------------------------
# NX §31, entries 1 and 3 (职工基本医疗保险 fund).
EMPLOYEE_RESIDENT_CONTRIBUTION_EXPENSE = "employee_fund:expense/personal_account/resident_contribution"
EMPLOYEE_LTC_CONTRIBUTION_EXPENSE = "employee_fund:expense/personal_account/ltc_contribution"
EMPLOYEE_EXPENDITURE_DEPOSIT = "employee_fund:deposit/expenditure"
# NX §31, entry 2 (城乡居民基本医疗保险 fund).
RESIDENT_TREASURY_DEPOSIT = "resident_fund:deposit/treasury"
RESIDENT_INDIVIDUAL_CONTRIBUTION_INCOME = "resident_fund:income/contribution/individual"
# NX §31, entry 4 (长护险 fund).
LTC_TREASURY_DEPOSIT = "ltc_fund:deposit/treasury"
LTC_CONTRIBUTION_INCOME = "ltc_fund:income/contribution"
# Clearing accounts of the personal sub-ledger: inflows (normal side debit) and outflows (normal side credit).
CLEARING_ALLOCATION = "personal_clearing:allocation"
CLEARING_OPENING_BALANCE = "personal_clearing:opening_balance"
CLEARING_MEDICAL_OWN = "personal_clearing:medical/own"
CLEARING_MEDICAL_SHARED = "personal_clearing:medical/shared"
CLEARING_RESIDENT_CONTRIBUTION = "personal_clearing:resident_contribution"
CLEARING_LTC_CONTRIBUTION = "personal_clearing:ltc_contribution"
CLEARING_TRANSFER_OUT = "personal_clearing:transfer_out"
CLEARING_ONE_TIME_PAYOUT = "personal_clearing:one_time_payout"

PERSONAL_ACCOUNT_PREFIX = "personal:"
PERSONAL_ACCOUNT_NAME = "个人账户"

CHART: dict[str, Account] = {
    account.code: account
    for account in (
        # Names exactly as NX §31 writes them.
        Account(EMPLOYEE_RESIDENT_CONTRIBUTION_EXPENSE, "基本医疗保险待遇支出/个人账户基金支出/居民医保缴费支出",
                Book.EMPLOYEE_FUND, Side.DEBIT),
        Account(EMPLOYEE_LTC_CONTRIBUTION_EXPENSE, "基本医疗保险待遇支出/个人账户基金支出/长护险缴费支出",
                Book.EMPLOYEE_FUND, Side.DEBIT),
        Account(EMPLOYEE_EXPENDITURE_DEPOSIT, "支出户存款", Book.EMPLOYEE_FUND, Side.DEBIT),
        Account(RESIDENT_TREASURY_DEPOSIT, "国库存款", Book.RESIDENT_FUND, Side.DEBIT),
        Account(RESIDENT_INDIVIDUAL_CONTRIBUTION_INCOME, "基本医疗保险费收入/个人缴费收入",
                Book.RESIDENT_FUND, Side.CREDIT),
        Account(LTC_TREASURY_DEPOSIT, "国库存款", Book.LTC_FUND, Side.DEBIT),
        Account(LTC_CONTRIBUTION_INCOME, "长护险保险费收入", Book.LTC_FUND, Side.CREDIT),
        # Our own sub-ledger clearing accounts (not named by the seeds).
        Account(CLEARING_ALLOCATION, "个人账户划入", Book.PERSONAL, Side.DEBIT),
        Account(CLEARING_OPENING_BALANCE, "个人账户期初余额迁移", Book.PERSONAL, Side.DEBIT),
        Account(CLEARING_MEDICAL_OWN, "个人账户支付本人医药费用", Book.PERSONAL, Side.CREDIT),
        Account(CLEARING_MEDICAL_SHARED, "个人账户共济支付家庭成员医药费用", Book.PERSONAL, Side.CREDIT),
        Account(CLEARING_RESIDENT_CONTRIBUTION, "个人账户支付家庭成员居民医保缴费", Book.PERSONAL, Side.CREDIT),
        Account(CLEARING_LTC_CONTRIBUTION, "个人账户支付长护险缴费", Book.PERSONAL, Side.CREDIT),
        Account(CLEARING_TRANSFER_OUT, "个人账户跨省转移转出", Book.PERSONAL, Side.CREDIT),
        Account(CLEARING_ONE_TIME_PAYOUT, "个人账户一次性返还", Book.PERSONAL, Side.CREDIT),
    )
}

_MEDICAL_CLEARING = {PayerRole.OWN: CLEARING_MEDICAL_OWN, PayerRole.SHARED: CLEARING_MEDICAL_SHARED}
_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


def personal_account_code(account_id: int | str) -> str:
    text = str(account_id)
    if not text or ":" in text or text != text.strip():
        raise ValueError(f"unusable account id: {account_id!r}")
    return PERSONAL_ACCOUNT_PREFIX + text


def account_for(code: str) -> Account:
    """The chart row of a code; ``personal:<id>`` accounts exist for every individual account."""
    if code in CHART:
        return CHART[code]
    if code.startswith(PERSONAL_ACCOUNT_PREFIX) and len(code) > len(PERSONAL_ACCOUNT_PREFIX):
        return Account(code, PERSONAL_ACCOUNT_NAME, Book.PERSONAL, Side.CREDIT)
    raise UnknownAccount(f"no such account: {code}")


# --- checks ---------------------------------------------------------------------------------------------------
def assert_balanced(draft: PostingDraft) -> None:
    """Every amount is a positive integer, every account exists, and debits equal credits within each book."""
    if not draft.entries:
        raise UnbalancedPosting(f"{draft.business_key}: a posting needs entries")
    net_by_book: dict[Book, int] = {}
    for entry in draft.entries:
        _require_positive_fen(entry.amount)
        book = account_for(entry.account_code).book
        signed = entry.amount if entry.side is Side.DEBIT else -entry.amount
        net_by_book[book] = net_by_book.get(book, 0) + signed
    unbalanced = {book: net for book, net in net_by_book.items() if net}
    if unbalanced:
        raise UnbalancedPosting(f"{draft.business_key}: debits − credits by book {unbalanced}")


def movement(draft: PostingDraft, account_code: str) -> int:
    """How much the posting moves the account's balance, positive toward its normal side."""
    normal_side = account_for(account_code).normal_side
    return sum(
        entry.amount if entry.side is normal_side else -entry.amount
        for entry in draft.entries
        if entry.account_code == account_code
    )


def apply_to_balance(balance: int, draft: PostingDraft, account_code: str) -> int:
    """The account's balance after the posting; no balance may go below zero (DESIGN §2)."""
    new_balance = balance + movement(draft, account_code)
    if new_balance < 0:
        raise InsufficientBalance(account_code, balance, -new_balance)
    return new_balance


# --- credits --------------------------------------------------------------------------------------------------
def monthly_credit(account_id: int | str, period: str, amount: int) -> PostingDraft:
    """The month's allocation, once the month's contribution has fully arrived (NX §5, NM §3)."""
    _require_month(period)
    return _draft(
        f"credit:{account_id}:{period}",
        PostingKind.MONTHLY_CREDIT,
        f"{period} 个人账户划入",
        _personal_inflow(account_id, CLEARING_ALLOCATION, amount),
    )


def lump_credit(account_id: int | str, period_from: str, period_to: str, amount: int) -> PostingDraft:
    """A flexible worker's one-off allocation for the months the contribution covered (NX §5)."""
    _require_month(period_from)
    _require_month(period_to)
    if period_from > period_to:
        raise ValueError(f"period ends before it starts: {period_from}..{period_to}")
    return _draft(
        f"lump_credit:{account_id}:{period_from}..{period_to}",
        PostingKind.LUMP_CREDIT,
        f"{period_from}至{period_to} 个人账户一次性划入",
        _personal_inflow(account_id, CLEARING_ALLOCATION, amount),
    )


def opening_balance(account_id: int | str, amount: int) -> PostingDraft:
    """The balance carried over from the core system on first import; its key makes it happen once."""
    return _draft(
        f"opening:{account_id}",
        PostingKind.OPENING_BALANCE,
        "个人账户期初余额迁移",
        _personal_inflow(account_id, CLEARING_OPENING_BALANCE, amount),
    )


# --- uses -----------------------------------------------------------------------------------------------------
def account_payment(
    account_id: int | str, settlement_id: int | str, amount: int, payer_role: PayerRole | str
) -> PostingDraft:
    """The account pays at an institution or pharmacy; cleared with the institution later (NX §10).

    A settlement may draw on several accounts (own, then sharers'), hence one key per settlement × account.
    """
    role = PayerRole(payer_role)
    memo = "个人账户支付" if role is PayerRole.OWN else "个人账户家庭共济支付"
    return _draft(
        f"payment:{settlement_id}:{account_id}",
        PostingKind.ACCOUNT_PAYMENT,
        f"结算 {settlement_id} {memo}",
        _personal_outflow(account_id, _MEDICAL_CLEARING[role], amount),
    )


def resident_contribution_for_relative(
    account_id: int | str, relative_ref: str, amount: int, business_key: str
) -> PostingDraft:
    """The account pays a relative's 城乡居民医保 individual contribution: NX §31 entries 1 and 2."""
    return _draft(
        business_key,
        PostingKind.RESIDENT_CONTRIBUTION,
        f"为家庭成员 {relative_ref} 缴纳城乡居民医保个人缴费",
        (
            *_personal_outflow(account_id, CLEARING_RESIDENT_CONTRIBUTION, amount),
            Entry(EMPLOYEE_RESIDENT_CONTRIBUTION_EXPENSE, Side.DEBIT, amount),
            Entry(EMPLOYEE_EXPENDITURE_DEPOSIT, Side.CREDIT, amount),
            Entry(RESIDENT_TREASURY_DEPOSIT, Side.DEBIT, amount),
            Entry(RESIDENT_INDIVIDUAL_CONTRIBUTION_INCOME, Side.CREDIT, amount),
        ),
    )


def ltc_contribution(account_id: int | str, amount: int, business_key: str) -> PostingDraft:
    """The account pays a 长护险 contribution: NX §31 entries 3 and 4."""
    return _draft(
        business_key,
        PostingKind.LTC_CONTRIBUTION,
        "个人账户缴纳长护险",
        (
            *_personal_outflow(account_id, CLEARING_LTC_CONTRIBUTION, amount),
            Entry(EMPLOYEE_LTC_CONTRIBUTION_EXPENSE, Side.DEBIT, amount),
            Entry(EMPLOYEE_EXPENDITURE_DEPOSIT, Side.CREDIT, amount),
            Entry(LTC_TREASURY_DEPOSIT, Side.DEBIT, amount),
            Entry(LTC_CONTRIBUTION_INCOME, Side.CREDIT, amount),
        ),
    )


def transfer_out(account_id: int | str, amount: int, business_key: str) -> PostingDraft:
    """The balance leaves with the insurance relationship on a cross-province move (NX §8)."""
    return _draft(
        business_key,
        PostingKind.TRANSFER_OUT,
        "个人账户随医保关系跨省转出",
        _personal_outflow(account_id, CLEARING_TRANSFER_OUT, amount),
    )


def one_time_payout(account_id: int | str, amount: int, business_key: str) -> PostingDraft:
    """The balance is paid to the applicant after death or emigration, once the review approved it (NX §9)."""
    return _draft(
        business_key,
        PostingKind.ONE_TIME_PAYOUT,
        "个人账户一次性返还",
        _personal_outflow(account_id, CLEARING_ONE_TIME_PAYOUT, amount),
    )


# --- corrections ----------------------------------------------------------------------------------------------
def reversal(
    original: PostingDraft | Sequence[Entry], business_key: str, memo: str | None = None
) -> PostingDraft:
    """Undo a posting in full: the same entries with debits and credits swapped."""
    return _draft(
        business_key, PostingKind.REVERSAL, memo or _memo_about(original, "冲正"), _swapped(original, amount=None)
    )


def refund_of(
    original: PostingDraft | Sequence[Entry], amount: int, business_key: str, already_refunded: int = 0
) -> PostingDraft:
    """Return part or all of a posting along its original accounts (NX §28).

    ``already_refunded`` is what earlier refunds of the same original returned: together they never exceed it.
    The original must move one amount on every entry, as every builder here does.
    """
    _require_positive_fen(amount)
    if already_refunded < 0:
        raise ValueError("already_refunded cannot be negative")
    original_amount = _single_amount(_entries_of(original))
    if already_refunded + amount > original_amount:
        raise RefundExceedsOriginal(
            f"refund {amount} + earlier {already_refunded} > original {original_amount} fen"
        )
    return _draft(business_key, PostingKind.REFUND, _memo_about(original, "退费"), _swapped(original, amount=amount))


# --- helpers --------------------------------------------------------------------------------------------------
def _draft(business_key: str, kind: PostingKind, memo: str, entries: Iterable[Entry]) -> PostingDraft:
    if not business_key or not business_key.strip():
        raise ValueError("a posting needs a business key")
    draft = PostingDraft(business_key, kind, memo, tuple(entries))
    assert_balanced(draft)
    return draft


def _personal_inflow(account_id: int | str, clearing_code: str, amount: int) -> tuple[Entry, Entry]:
    return (
        Entry(clearing_code, Side.DEBIT, amount),
        Entry(personal_account_code(account_id), Side.CREDIT, amount),
    )


def _personal_outflow(account_id: int | str, clearing_code: str, amount: int) -> tuple[Entry, Entry]:
    return (
        Entry(personal_account_code(account_id), Side.DEBIT, amount),
        Entry(clearing_code, Side.CREDIT, amount),
    )


def _swapped(original: PostingDraft | Sequence[Entry], amount: int | None) -> tuple[Entry, ...]:
    """The original's entries with sides swapped, each moving ``amount`` (or its own amount when None)."""
    return tuple(
        Entry(entry.account_code, entry.side.opposite, entry.amount if amount is None else amount)
        for entry in _entries_of(original)
    )


def _memo_about(original: PostingDraft | Sequence[Entry], action: str) -> str:
    return f"{action} {original.business_key}" if isinstance(original, PostingDraft) else action


def _entries_of(original: PostingDraft | Sequence[Entry]) -> tuple[Entry, ...]:
    return original.entries if isinstance(original, PostingDraft) else tuple(original)


def _single_amount(entries: Sequence[Entry]) -> int:
    amounts = {entry.amount for entry in entries}
    if len(amounts) != 1:
        raise ValueError(f"a partial refund needs an original that moves one amount, got {sorted(amounts)}")
    return amounts.pop()


def _require_positive_fen(amount: int) -> None:
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise TypeError(f"amounts are integer fen, got {amount!r}")
    if amount <= 0:
        raise NonPositiveAmount(f"amount must be > 0 fen, got {amount}")


def _require_month(period: str) -> None:
    if not _MONTH.match(period):
        raise ValueError(f"period must be YYYY-MM, got {period!r}")
