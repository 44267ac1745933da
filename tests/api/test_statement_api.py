"""The PDF settlement statement (结算清单) a person downloads: made by a job, cached, remade after a refund."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from backend.services import statements
from tests.benefits_fixtures import (  # noqa: F401  (module fixtures shared by the benefits API tests)
    SETTLE,
    app,
    body_for,
    fen,
    fresh_session,
    item,
    make_person,
    signed_post,
)


@pytest.fixture(autouse=True)
def statement_dir(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "STATEMENT_DIR", str(tmp_path))
    return tmp_path


def pdf_text(pdf: bytes, tmp_path) -> str:
    assert shutil.which("pdftotext"), "pdftotext missing: run scripts/install-fonts.sh"
    path = tmp_path / "read.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True,
                          text=True).stdout
    return text


def statement_of(client, headers, setl_id):
    return client.get(f"/api/v1/settlements/{setl_id}/statement.pdf", headers=headers)


def test_the_statement_prints_the_visit_the_amounts_and_the_explanation_in_chinese(client, make_person,
                                                                                   person_headers, signed_post,
                                                                                   tmp_path):
    person = make_person(region="nm", name="刘强", opening_balance_fen=fen(500))
    settled = signed_post(SETTLE, body_for(person, item("3000"), item("200", in_scope=False, code="ZF01",
                                                                       name="营养补充剂"), use_account=True),
                          code="NM-T-001").json
    response = statement_of(client, person_headers(person), settled["setl_id"])
    assert response.status_code == 200  # synchronous mode: made at once
    assert response.mimetype == "application/pdf"
    text = pdf_text(response.data, tmp_path)
    squeezed = re.sub(r"\s+", "", text)
    for expected in ("门诊费用结算清单", "刘强", person.id_number[:6] + "********" + person.id_number[-4:],
                     "内蒙古自治区人民医院", "三级", "普通门诊", "2024-05-10", "阿莫西林胶囊", "营养补充剂", "范围外",
                     "内蒙古自治区医疗保险服务中心"):
        assert expected in text, expected
    # 3200 in total, 3000 in scope; fund (3000 − 1000) × 60 % = 1200; personal 2000: 500 account, 1500 cash.
    for label, amount in (("医疗费总额", "3200.00"), ("符合范围金额", "3000.00"), ("本次起付线", "1000.00"),
                          ("统筹基金支付", "1200.00"), ("个人账户支付", "500.00"), ("个人现金支付", "1500.00"),
                          ("账户余额", "0.00")):
        assert re.search(rf"{label}\s+{re.escape(amount)}(\s|$)", text), label
    assert "三级医疗机构统筹基金支付60%（在职职工），本次支付1200.00元。" in squeezed
    assert person.id_number not in squeezed


def test_the_statement_is_served_from_the_cache_the_second_time(client, make_person, person_headers, signed_post,
                                                                statement_dir):
    person = make_person(region="nx")
    setl_id = signed_post(SETTLE, body_for(person), code="NX-T-001").json["setl_id"]
    headers = person_headers(person)
    first = statement_of(client, headers, setl_id)
    cached = sorted(path.name for path in statement_dir.iterdir())
    second = statement_of(client, headers, setl_id)
    assert cached == [f"{setl_id}-r0.pdf"]
    assert second.data == first.data


def test_a_refund_makes_a_new_statement_that_lists_it(client, make_person, person_headers, signed_post, tmp_path):
    person = make_person(region="nm")
    setl_id = signed_post(SETTLE, body_for(person), code="NM-T-001").json["setl_id"]
    headers = person_headers(person)
    before = pdf_text(statement_of(client, headers, setl_id).data, tmp_path)
    signed_post(f"{SETTLE}/{setl_id}/refund", {"refund_no": "TF-PDF"}, code="NM-T-001")
    after = pdf_text(statement_of(client, headers, setl_id).data, tmp_path)
    assert "退费记录" not in before
    assert "退费记录" in after and "1200.00" in after


def test_without_a_worker_at_hand_the_request_is_answered_202_until_the_job_has_run(app, client, make_person,
                                                                                  person_headers, signed_post,
                                                                                  monkeypatch):
    monkeypatch.setitem(app.config, "JOBS_SYNCHRONOUS", False)
    person = make_person(region="nm")
    setl_id = signed_post(SETTLE, body_for(person), code="NM-T-001").json["setl_id"]
    headers = person_headers(person)
    pending = statement_of(client, headers, setl_id)
    again = statement_of(client, headers, setl_id)
    assert pending.status_code == 202 and pending.headers["Retry-After"] == str(statements.RETRY_AFTER_SECONDS)
    assert again.status_code == 202
    assert statements.render_and_store(setl_id, 0) == "rendered"  # what the worker does
    assert statements.render_and_store(setl_id, 0) == "exists"  # and a second run changes nothing
    ready = statement_of(client, headers, setl_id)
    assert ready.status_code == 200 and ready.data.startswith(b"%PDF")


def test_another_persons_statement_is_not_found(client, make_person, person_headers, signed_post):
    me, other = make_person(region="nm"), make_person(region="nm")
    setl_id = signed_post(SETTLE, body_for(me), code="NM-T-001").json["setl_id"]
    response = statement_of(client, person_headers(other), setl_id)
    assert response.status_code == 404


def test_after_a_partial_refund_the_statement_marks_it_shows_the_lines_that_went_back_and_net_totals(
        client, make_person, person_headers, signed_post, tmp_path):
    person = make_person(region="nm")
    setl_id = signed_post(SETTLE, body_for(person, item("3000"), item("1000", code="YP002", name="退回的药品")),
                          code="NM-T-001").json["setl_id"]
    headers = person_headers(person)
    partial = signed_post(f"{SETTLE}/{setl_id}/refund", {"refund_no": "TF-P1", "line_nos": [2]}, code="NM-T-001")
    assert partial.status_code == 201, partial.json
    text = pdf_text(statement_of(client, headers, setl_id).data, tmp_path)
    assert "【部分退费】" in text and "【已退费】" not in text
    returned = next(line for line in text.splitlines() if "退回的药品" in line)
    kept = next(line for line in text.splitlines() if "阿莫西林胶囊" in line)
    assert "已退费" in returned and "已退费" not in kept
    # 4000 settled: fund (4000 − 1000) × 60 % = 1800. Without line 2: (3000 − 1000) × 60 % = 1200, so the refund
    # sends back 600 of fund and 400 of cash, and the net amounts are 3000 / 1200 / 1800.
    assert "退费后净额" in text
    for label, amount in (("净医疗费", "3000.00"), ("净统筹支付", "1200.00"), ("净现金支付", "1800.00")):
        assert re.search(rf"{label}\s+{re.escape(amount)}(\s|$)", text), label
    signed_post(f"{SETTLE}/{setl_id}/refund", {"refund_no": "TF-P2"}, code="NM-T-001")
    whole = pdf_text(statement_of(client, headers, setl_id).data, tmp_path)
    assert "【已退费】" in whole
    assert re.search(r"净医疗费\s+0\.00(\s|$)", whole)


def test_a_statement_computed_from_sample_figures_says_so(client, make_person, person_headers, signed_post,
                                                          tmp_path):
    nx_person, nm_person = make_person(region="nx"), make_person(region="nm")
    nx_id = signed_post(SETTLE, body_for(nx_person), code="NX-T-001").json["setl_id"]
    nm_id = signed_post(SETTLE, body_for(nm_person), code="NM-T-001").json["setl_id"]
    assert "样例参数" in pdf_text(statement_of(client, person_headers(nx_person), nx_id).data, tmp_path)
    assert "样例参数" not in pdf_text(statement_of(client, person_headers(nm_person), nm_id).data, tmp_path)
