"""Every person in the demo data gets one story (issue #11, done-when): the caps, an estimate, the settlement of the
same visit, its statement and the chatbot agree — on the amounts, on why a bucket pays nothing, and on whether the
figures are samples."""

from __future__ import annotations

import re
import shutil
import subprocess
from types import SimpleNamespace

import pytest

from backend.demo import DEMO_PEOPLE
from backend.services.benefits import local_today
from tests.conftest import signed_request

SETTLE = "/api/v1/institution/settlements"
HOSPITALS = {"nm": "NM-T-001", "nx": "NX-T-001"}  # tertiary hospitals: general pooling pays there in both regions
STOPS = {"pooling_stopped_arrears", "pooling_stopped_in_hospital", "pooling_stopped_suspended",
         "pooling_stopped_terminated", "general_excluded_by_chronic", "institution_not_in_pooling_scope"}


@pytest.fixture
def demo(app, demo_data, tmp_path):
    app.config["STATEMENT_DIR"] = str(tmp_path / "statements")


def pdf_text(pdf: bytes, tmp_path) -> str:
    assert shutil.which("pdftotext"), "pdftotext missing: run scripts/install-fonts.sh"
    path = tmp_path / "statement.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True,
                          text=True).stdout


def chat_text(client, headers, text: str) -> str:
    answer = client.post("/api/v1/chat/messages", json={"text": text}, headers=headers)
    assert answer.status_code == 200, answer.json
    return "".join(reply.get("text", "") for reply in answer.json["replies"])


def test_caps_estimate_settlement_statement_and_chatbot_agree_for_every_demo_person(client, demo, person_headers,
                                                                                    tmp_path):
    # One walk over the demo seeded once: seeding it per person would cost more than all the checks.
    stopped = {name for id_number, name, region, *_ in DEMO_PEOPLE
               if not check_one_story(client, person_headers(SimpleNamespace(id_number=id_number)), tmp_path,
                                      id_number, name, region)}
    # The walk covered the cases that pay nothing: a chronic qualification (NM §11) and arrears (NM §13, NX sample).
    assert stopped == {"乌云", "高磊", "王芳"}


def check_one_story(client, headers, tmp_path, id_number: str, name: str, region: str) -> bool:
    """Check one person's story; returns whether their general pooling is available today."""
    caps = client.get("/api/v1/benefits/caps", headers=headers).json
    general = caps["general"]
    estimate = client.post("/api/v1/benefits/estimate", json={"amount": "3000", "hospital_level": "tertiary"},
                           headers=headers).json
    said_caps = chat_text(client, headers, "我今年门诊统筹的额度还有多少")
    said_estimate = chat_text(client, headers, "我在三甲医院花了3000块能报多少")
    settled = signed_request(client, SETTLE, {
        "id_number": id_number, "visit_date": local_today().isoformat(), "med_type": "general",
        "use_account": False, "items": [{"code": "YP001", "name": "阿莫西林胶囊", "amount": "3000", "in_scope": True}],
    }, HOSPITALS[region]).json
    statement = pdf_text(client.get(f"/api/v1/settlements/{settled['setl_id']}/statement.pdf",
                                    headers=headers).data, tmp_path)

    # The estimate is what the settlement of the same visit pays, for the same reasons.
    assert estimate["hifp_pay"] == settled["hifp_pay"], name
    assert set(estimate["reasons"]) & STOPS == set(settled["reasons"]) & STOPS, name
    # A general bucket the caps call unavailable pays nothing, and says why in all four places.
    if not general["available"]:
        assert general["remaining"] == "0.00" and settled["hifp_pay"] == "0.00", name
        assert set(general["reasons"]) <= set(settled["reasons"]), name
        assert general["note"] in said_caps, name
        squeezed = re.sub(r"\s+", "", statement)
        assert any(sentence.replace(" ", "") in squeezed for sentence in settled["explanation"]
                   if "不同时享受" in sentence or "暂停" in sentence or "不予支付" in sentence), name
    elif general["remaining"] != "0.00":
        assert settled["hifp_pay"] != "0.00", name
    # The chatbot quotes the person's own caps and the estimate's amount.
    assert f"剩余 {general['remaining']} 元" in said_caps, name
    assert f"统筹基金支付 {estimate['hifp_pay']} 元" in said_estimate, name
    # Sample figures are labelled alike everywhere.
    assert estimate["sample"]["is_sample"] == settled["sample"]["is_sample"], name
    if settled["sample"]["is_sample"]:
        assert "样例" in statement and settled["sample"]["label"] in said_estimate, name
        assert general["sample"] and caps["sample"]["label"] in said_caps, name
    else:
        assert "样例参数" not in statement, name
    assert re.search(rf"统筹基金支付\s+{re.escape(settled['hifp_pay'])}(\s|$)", statement), name
    return general["available"]
