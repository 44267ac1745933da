import pytest
from hypothesis import given
from hypothesis import strategies as st

from backend.domain.sharing import (
    RELATIONS,
    PersonSnapshot,
    RefusalReason,
    SharingRefused,
    check_grant,
    split_account_payment,
)

# NX §6: 配偶、父母（包括配偶父母）、子女 — the relationship set of the Ningxia 2023 policy version.
NX_2023_RELATIONS = frozenset({"spouse", "father", "mother", "father_in_law", "mother_in_law", "son", "daughter"})
# The 2024 national widening to all 近亲属 is a new version of the same data.
WIDENED_RELATIONS = RELATIONS

OWNER = PersonSnapshot(person_id=1, region="nx", status="active")
RELATIVE = PersonSnapshot(person_id=2, region="nx", status="active")


def refusal(owner=OWNER, relative=RELATIVE, relation="spouse", allowed=NX_2023_RELATIONS, granted=frozenset()):
    with pytest.raises(SharingRefused) as refused:
        check_grant(owner, relative, relation, allowed, granted)
    return refused.value.reason


def test_an_owner_may_authorise_a_spouse_insured_in_the_same_region():
    check_grant(OWNER, RELATIVE, "spouse", NX_2023_RELATIONS, frozenset({3}))


def test_nobody_may_authorise_themselves():
    assert refusal(relative=PersonSnapshot(1, "nx", "active")) is RefusalReason.SELF_GRANT


def test_a_sibling_is_refused_under_nx_2023_but_allowed_once_the_widened_version_is_in_force():
    assert refusal(relation="sibling") is RefusalReason.RELATION_NOT_ALLOWED
    check_grant(OWNER, RELATIVE, "sibling", WIDENED_RELATIONS, frozenset())


def test_a_relation_outside_the_vocabulary_is_not_allowed():
    assert refusal(relation="friend", allowed=WIDENED_RELATIONS) is RefusalReason.RELATION_NOT_ALLOWED


@pytest.mark.parametrize("status", ["suspended", "terminated"])
def test_a_relative_whose_insurance_has_ended_or_is_suspended_cannot_receive(status):
    assert refusal(relative=PersonSnapshot(2, "nx", status)) is RefusalReason.RELATIVE_NOT_INSURED


def test_a_relative_in_arrears_is_still_insured_and_may_receive():
    check_grant(OWNER, PersonSnapshot(2, "nx", "arrears"), "mother", NX_2023_RELATIONS, frozenset())


def test_a_relative_insured_in_another_region_is_refused():
    assert refusal(relative=PersonSnapshot(2, "nm", "active")) is RefusalReason.DIFFERENT_REGION


def test_a_second_active_grant_to_the_same_relative_is_refused_as_already_granted():
    assert refusal(granted=frozenset({2})) is RefusalReason.ALREADY_GRANTED


def test_a_refusal_explains_itself_in_chinese():
    with pytest.raises(SharingRefused) as refused:
        check_grant(OWNER, OWNER, "spouse", NX_2023_RELATIONS, frozenset())
    assert refused.value.message == str(refused.value)
    assert "本人" in refused.value.message


# --- paying ---------------------------------------------------------------------------------------------------
def test_the_relatives_own_account_pays_first_then_authorisers_in_grant_order_then_cash():
    split = split_account_payment(10_000, own_balance=2_000, sharer_balances=[("g1", 3_000), ("g2", 4_000)])

    assert split.own == 2_000
    assert split.shared == (("g1", 3_000), ("g2", 4_000))
    assert split.acct_mulaid_pay == 3_000 + 4_000
    assert split.cash == 10_000 - 2_000 - 3_000 - 4_000


def test_an_authoriser_later_in_the_order_is_not_touched_when_earlier_accounts_suffice():
    split = split_account_payment(2_500, own_balance=1_000, sharer_balances=[("g1", 3_000), ("g2", 4_000)])

    assert split.shared == (("g1", 1_500),)
    assert split.cash == 0


def test_an_empty_authoriser_account_is_skipped():
    split = split_account_payment(500, own_balance=0, sharer_balances=[("g1", 0), ("g2", 4_000)])

    assert split.shared == (("g2", 500),)


def test_negative_amounts_are_refused():
    with pytest.raises(ValueError):
        split_account_payment(-1, 0, [])
    with pytest.raises(ValueError):
        split_account_payment(100, 0, [("g1", -5)])


fen = st.integers(min_value=0, max_value=10**7)


@given(amount=fen, own_balance=fen, sharer_amounts=st.lists(fen, max_size=5))
def test_the_split_covers_the_bill_within_balances_and_in_order(amount, own_balance, sharer_amounts):
    sharers = [(f"g{n}", balance) for n, balance in enumerate(sharer_amounts)]
    balances = dict(sharers)
    split = split_account_payment(amount, own_balance, sharers)

    assert split.own + split.acct_mulaid_pay + split.cash == amount
    assert 0 <= split.own <= own_balance
    assert all(0 < paid <= balances[grant] for grant, paid in split.shared)
    # Each account in the sequence own, g0, g1, … is used only when all before it were emptied.
    drawn = [split.own] + [dict(split.shared).get(grant, 0) for grant, _ in sharers]
    available = [own_balance] + [balance for _, balance in sharers]
    for n in range(1, len(drawn)):
        if drawn[n] > 0:
            assert drawn[:n] == available[:n]
    if split.cash > 0:
        assert drawn == available
    assert [grant for grant, _ in split.shared] == [grant for grant, _ in sharers if grant in dict(split.shared)]
