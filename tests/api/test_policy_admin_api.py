"""Administrators change policy by adding a version: checked, never overlapping, never editing one in force."""

from __future__ import annotations

import copy
import datetime as dt
import json

import pytest
from sqlalchemy import select

from backend.extensions import db
from backend.models import AuditLog
from backend.services import policies
from backend.services import staff as staff_service
from backend.services.benefits import local_today
from tests.benefits_fixtures import app, fresh_session  # noqa: F401  (module fixtures)

POLICIES = "/api/v1/staff/policies"


@pytest.fixture(scope="module")
def staff_tokens(app):
    staff_service.upsert("admin1", "系统管理员", "demo-admin1", ["admin"])
    staff_service.upsert("reviewer1", "初审", "demo-reviewer1", ["first_reviewer"])
    db.session.commit()
    client = app.test_client()
    return {name: client.post("/api/v1/staff/auth/login", json={"username": name, "password": f"demo-{name}"})
            .json["access_token"] for name in ("admin1", "reviewer1")}


def headers(staff_tokens, name="admin1"):
    return {"Authorization": f"Bearer {staff_tokens[name]}"}


def nx_document(version: str, starts: dt.date) -> dict:
    document = copy.deepcopy(json.loads((policies.SHIPPED_DIR / "nx-2024-01.json").read_text("utf-8")))
    document.update(version=version, valid_from=starts.isoformat(), valid_to=None,
                    label=f"宁夏职工医保门诊共济保障（{starts.isoformat()}起，样例参数）")
    document["benefits"]["deductible"]["amount_fen"] = {"employed": 70000, "retired": 60000}
    return document


def test_an_administrator_adds_a_version_that_takes_over_from_its_start_and_it_is_audited(client, staff_tokens):
    starts = local_today() + dt.timedelta(days=30)
    response = client.post(POLICIES, json=nx_document("nx-next", starts), headers=headers(staff_tokens))
    assert response.status_code == 201, response.json
    assert response.json["version"] == "nx-next" and response.json["in_force_today"] is False
    listed = {v["version"]: v for v in client.get(POLICIES, query_string={"region": "nx"},
                                                  headers=headers(staff_tokens)).json["items"]}
    # The open-ended version in force today now ends where the new one starts; nothing else about it changed.
    assert listed["nx-2024-01"]["valid_to"] == starts.isoformat()
    assert policies.in_force("nx", starts - dt.timedelta(days=1)).version == "nx-2024-01"
    assert policies.in_force("nx", starts).version == "nx-next"
    assert policies.in_force("nx", starts).benefits.deductible.amount_fen.employed == 70000
    audit = db.session.scalar(select(AuditLog).where(AuditLog.action == "policy_version_added"))
    assert (audit.object_id, audit.details["closed_open_end_of"]) == ("nx-next", "nx-2024-01")


def test_a_version_overlapping_another_is_refused(client, staff_tokens):
    starts = local_today() + dt.timedelta(days=60)
    first = client.post(POLICIES, json=nx_document("nx-later", starts), headers=headers(staff_tokens))
    overlapping = client.post(POLICIES, json={**nx_document("nx-between", starts - dt.timedelta(days=10)),
                                              "valid_to": (starts + dt.timedelta(days=10)).isoformat()},
                              headers=headers(staff_tokens))
    assert first.status_code == 201
    assert overlapping.status_code == 409
    assert overlapping.json["errors"]["reason"] == "overlapping_policy_versions"


def test_a_version_cannot_start_today_or_earlier_so_no_judged_fee_changes(client, staff_tokens):
    response = client.post(POLICIES, json=nx_document("nx-today", local_today()), headers=headers(staff_tokens))
    assert response.status_code == 422
    assert response.json["errors"]["reason"] == "valid_from_not_in_future"


def test_a_version_code_is_used_once(client, staff_tokens):
    response = client.post(POLICIES, json=nx_document("nx-2024-01", local_today() + dt.timedelta(days=400)),
                           headers=headers(staff_tokens))
    assert response.status_code == 409
    assert response.json["errors"]["reason"] == "policy_version_exists"


def test_an_invalid_document_lists_every_problem(client, staff_tokens):
    document = nx_document("nx-broken", local_today() + dt.timedelta(days=90))
    document["benefits"]["buckets"]["general"]["share_bp"]["tertiary"]["employed"] = 12000
    del document["sharing"]
    response = client.post(POLICIES, json=document, headers=headers(staff_tokens))
    assert response.status_code == 422
    assert response.json["errors"]["reason"] == "invalid_policy_document"
    problems = response.json["errors"]["problems"]
    assert any(p.startswith("benefits.buckets.general.share_bp.tertiary.employed") for p in problems)
    assert "sharing: missing" in problems


def test_only_administrators_add_versions(client, staff_tokens):
    response = client.post(POLICIES, json=nx_document("nx-x", local_today() + dt.timedelta(days=90)),
                           headers=headers(staff_tokens, "reviewer1"))
    listing = client.get(POLICIES, headers=headers(staff_tokens, "reviewer1"))
    assert response.status_code == 403 and response.json["errors"]["reason"] == "role_required"
    assert listing.status_code == 200
