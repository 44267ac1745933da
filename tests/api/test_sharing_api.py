"""`/api/v1/sharing` (DESIGN §4.8): grant, revoke, grant again, both directions, and sharing end to end."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from backend.extensions import db
from backend.models import Accumulator, AccumulatorEntry, Institution, SharingGrant
from backend import demo
from tests.conftest import signed_request
from tests.identities import id_number

GRANTS = "/api/v1/sharing/grants"


@pytest.fixture
def family(make_person):
    owner = make_person(id_number=id_number("19820305", male=True), name="刘强", opening_balance_fen=100_000)
    mother = make_person(id_number=id_number("19550618", male=False), name="孙秀英", person_type="retired",
                         opening_balance_fen=1_000)
    return owner, mother


def grant_body(relative, relation="mother", **overrides):
    return {"relative_name": relative.name, "relative_id_number": relative.id_number, "relation": relation,
            "promise_accepted": True, **overrides}


def test_a_grant_is_created_active_and_listed_both_ways(client, family, person_headers):
    owner, mother = family
    created = client.post(GRANTS, json=grant_body(mother), headers={**person_headers(owner), "X-Channel": "alipay"})
    assert created.status_code == 201, created.json
    assert created.json["status"] == "active" and created.json["grant_id"]
    assert created.json["channel"] == "alipay"
    assert created.json["relative"]["name"] == "孙秀英"
    assert mother.id_number not in created.get_data(as_text=True)
    given = client.get(GRANTS, query_string={"direction": "given"}, headers=person_headers(owner)).json
    received = client.get(GRANTS, query_string={"direction": "received"}, headers=person_headers(mother)).json
    assert [g["grant_id"] for g in given] == [g["grant_id"] for g in received] == [created.json["grant_id"]]
    assert received[0]["direction"] == "received"


def test_revoking_answers_revoked_and_granting_again_is_a_new_grant(client, family, person_headers):
    owner, mother = family
    headers = person_headers(owner)
    first = client.post(GRANTS, json=grant_body(mother), headers=headers).json["grant_id"]
    revoked = client.post(f"{GRANTS}/{first}/revoke", headers=headers)
    assert revoked.status_code == 200 and revoked.json["status"] == "revoked"
    again = client.post(GRANTS, json=grant_body(mother), headers=headers)
    assert again.status_code == 201 and again.json["grant_id"] != first


def test_without_a_channel_header_an_unbound_person_grants_through_the_app(client, family, person_headers):
    owner, mother = family
    created = client.post(GRANTS, json=grant_body(mother), headers=person_headers(owner))
    assert created.json["channel"] == "app"
    refused = client.post(GRANTS, json=grant_body(mother), headers={**person_headers(owner), "X-Channel": "fax"})
    assert (refused.status_code, refused.json["errors"]["reason"]) == (422, "channel_invalid")


@pytest.mark.parametrize("overrides, status, reason", [
    ({"promise_accepted": False}, 422, "promise_not_accepted"),
    ({"relation": "cousin"}, 422, "relation_not_allowed"),
    ({"relative_name": "冒名"}, 422, "relative_not_found"),
])
def test_bad_requests_are_refused_with_a_reason(client, family, person_headers, overrides, status, reason):
    owner, mother = family
    response = client.post(GRANTS, json=grant_body(mother, **overrides), headers=person_headers(owner))
    assert (response.status_code, response.json["errors"]["reason"]) == (status, reason)


def test_granting_to_oneself_is_refused(client, family, person_headers):
    owner, _ = family
    response = client.post(GRANTS, json=grant_body(owner, relation="spouse"), headers=person_headers(owner))
    assert (response.status_code, response.json["errors"]["reason"]) == (422, "self_grant")


def test_a_relative_insured_elsewhere_is_refused(client, family, make_person, person_headers):
    owner, _ = family
    elsewhere = make_person(id_number=id_number("20080101", male=True, area="150102"), name="外地亲属", region="nm")
    response = client.post(GRANTS, json=grant_body(elsewhere, relation="son"), headers=person_headers(owner))
    assert (response.status_code, response.json["errors"]["reason"]) == (422, "different_region")


def test_a_second_active_grant_to_the_same_relative_is_409(client, family, person_headers):
    owner, mother = family
    client.post(GRANTS, json=grant_body(mother), headers=person_headers(owner))
    again = client.post(GRANTS, json=grant_body(mother), headers=person_headers(owner))
    assert (again.status_code, again.json["errors"]["reason"]) == (409, "already_granted")


def test_another_persons_grant_is_404_to_read_and_to_revoke(client, family, make_person, person_headers):
    owner, mother = family
    grant_id = client.post(GRANTS, json=grant_body(mother), headers=person_headers(owner)).json["grant_id"]
    outsider = person_headers(make_person(name="外人"))
    assert client.get(f"{GRANTS}/{grant_id}", headers=outsider).status_code == 404
    revoke = client.post(f"{GRANTS}/{grant_id}/revoke", headers=outsider)
    assert (revoke.status_code, revoke.json["errors"]["reason"]) == (404, "grant_not_found")
    assert client.post(f"{GRANTS}/{grant_id}/revoke", headers=person_headers(mother)).status_code == 404
    assert client.get(f"{GRANTS}/{grant_id}", headers=person_headers(mother)).status_code == 200


def test_a_retried_grant_with_the_same_idempotency_key_is_answered_once(client, family, person_headers):
    owner, mother = family
    headers = {**person_headers(owner), "Idempotency-Key": "grant-1"}
    first = client.post(GRANTS, json=grant_body(mother), headers=headers)
    second = client.post(GRANTS, json=grant_body(mother), headers=headers)
    assert second.status_code == 201 and second.json == first.json
    assert second.headers.get("Idempotent-Replayed") == "true"
    assert db.session.scalar(select(func.count()).select_from(SharingGrant)) == 1


def test_the_promise_to_accept_comes_with_its_version_and_the_allowed_relations(client, family, person_headers):
    owner, _ = family
    promise = client.get("/api/v1/sharing/promise", headers=person_headers(owner)).json
    assert promise["version"].startswith("nx-") and "承诺" in promise["text"]
    assert {"code": "spouse", "label": "配偶"} in promise["relations"]


def test_both_people_find_the_grant_in_their_notifications(client, family, person_headers):
    owner, mother = family
    client.post(GRANTS, json=grant_body(mother), headers=person_headers(owner))
    for person in (owner, mother):
        inbox = client.get("/api/v1/notifications", headers=person_headers(person)).json
        assert [n["kind"] for n in inbox] == ["sharing_granted"]


def test_the_list_needs_a_known_direction_and_a_login(client, family, person_headers):
    owner, _ = family
    bad = client.get(GRANTS, query_string={"direction": "sideways"}, headers=person_headers(owner))
    assert bad.status_code == 422
    assert client.get(GRANTS).status_code == 401


# --- end to end: grant → the relative's pharmacy payment uses the owner's money → revoke → it does not -------
@pytest.fixture
def pharmacy(app):
    code = "NX-P-001"
    db.session.add(Institution(code=code, name="银川市兴庆区定点零售药店", kind="pharmacy", level="primary",
                               region_code="nx", secret=demo.demo_secret(code)))
    db.session.commit()
    return code


def pharmacy_purchase(client, pharmacy, person, order_no):
    return signed_request(client, "/api/v1/institution/settlements", {
        "id_number": person.id_number, "visit_date": "2026-03-02", "med_type": "general", "use_account": True,
        "order_no": order_no, "items": [{"code": "YP001", "name": "硝苯地平控释片", "amount": "50", "in_scope": True}],
    }, code=pharmacy)


def test_sharing_end_to_end_at_a_pharmacy(client, pharmacy, make_person, person_headers):
    pytest.importorskip("backend.services.settlements")
    owner = make_person(id_number=id_number("19850612", male=True), name="张伟", opening_balance_fen=100_000)
    father = make_person(id_number=id_number("19580315", male=True), name="张建国", person_type="retired",
                         opening_balance_fen=1_000)
    grant_id = client.post(GRANTS, json=grant_body(father, relation="father"),
                           headers=person_headers(owner)).json["grant_id"]
    shared = pharmacy_purchase(client, pharmacy, father, "P-1")
    assert shared.status_code in (200, 201), shared.json
    personal = sum(Decimal(shared.json[part]) for part in ("acct_pay", "acct_mulaid_pay", "psn_cash_pay"))
    # The father's own 10 yuan first, the rest of his part from his son's account (NX §6), no cash.
    assert (shared.json["acct_pay"], shared.json["psn_cash_pay"]) == ("10.00", "0.00")
    assert Decimal(shared.json["acct_mulaid_pay"]) == personal - 10 > 0
    owner_account = client.get("/api/v1/account", headers=person_headers(owner)).json
    assert owner_account["spending_for_family"] == shared.json["acct_mulaid_pay"]
    entries = client.get("/api/v1/account/entries", headers=person_headers(owner)).json
    assert entries[0]["by"] == {"name": "张建国", "relation": "father", "relation_label": "父亲"}
    assert entries[0]["institution"]["code"] == "NX-P-001"
    # NX §12: what the son's account paid for his father is not the son's deductible or cap.
    for model in (Accumulator, AccumulatorEntry):
        assert db.session.scalar(select(func.count()).select_from(model).where(model.person_id == owner.id)) == 0

    client.post(f"{GRANTS}/{grant_id}/revoke", headers=person_headers(owner))
    after = pharmacy_purchase(client, pharmacy, father, "P-2")
    assert after.json["acct_mulaid_pay"] == "0.00"
    assert after.json["psn_cash_pay"] != "0.00"
