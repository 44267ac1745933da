"""What the individual account may pay, line by line, as policy data per region (issue #11.10; NM §4–§5)."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest

from backend.domain import benefits as engine
from backend.domain.policy import PaymentScope, Policy
from backend.services.policies import shipped_documents

POLICIES = {doc["version"]: Policy.from_document(doc) for doc in shipped_documents()}
NM = POLICIES["nm-2023-01"]
PERSON = engine.Person(region="nm", person_type="employed")


def settle(policy, *lines):
    visit = engine.Visit(service_date=dt.date(2024, 5, 10), institution_level="tertiary", institution_kind="hospital",
                         in_region=True, med_type="general", lines=lines)
    return engine.settle(policy, PERSON, visit, {})


def no_out_of_scope(policy: Policy) -> Policy:
    return replace(policy, account=replace(policy.account, payment_scope=PaymentScope(False, "某条")))


@pytest.mark.parametrize("line, policy, reason", [
    (engine.Line("A", "健身卡", 10_000, False, use="fitness"), NM, "excluded_use"),  # NM §5
    (engine.Line("A", "养生茶", 10_000, False, use="wellness"), NM, "excluded_use"),
    (engine.Line("A", "营养补充剂", 10_000, False), no_out_of_scope(NM), "out_of_scope_not_payable"),
    (engine.Line("A", "某项目", 10_000, True, account_eligible=False), NM, "institution_marked_ineligible"),
])
def test_a_line_the_account_may_not_pay_says_why(line, policy, reason):
    assert engine.account_refusal(policy, line) == reason
    view = engine.account_refusal_view(policy, line)
    assert view["reason"] == reason and view["message"] and view["article"] == policy.account.payment_scope.article


def test_lines_the_account_may_pay():
    assert engine.account_refusal(NM, engine.Line("A", "阿莫西林", 10_000, True)) is None
    # NM §4: the account pays the personal share, out-of-scope fees included, where the version says so.
    assert NM.account.payment_scope.out_of_scope_lines is True
    assert "第四条" in NM.account.payment_scope.article and "第五条" in NM.account.payment_scope.article
    assert engine.account_refusal(NM, engine.Line("A", "自费药", 10_000, False)) is None


def test_the_refused_lines_are_left_out_of_what_the_account_is_offered():
    result = settle(NM, engine.Line("A", "阿莫西林", 300_000, True), engine.Line("B", "养生茶", 20_000, False,
                                                                               use="wellness"))
    assert result.personal_part == 320_000 - 120_000
    assert result.account_payable == result.personal_part - 20_000
    stricter = settle(no_out_of_scope(NM), engine.Line("A", "阿莫西林", 300_000, True),
                      engine.Line("B", "自费药", 20_000, False))
    assert stricter.account_payable == stricter.personal_part - 20_000


def test_every_shipped_version_cites_the_article_of_its_payment_scope():
    for policy in POLICIES.values():
        assert policy.account.payment_scope.article
