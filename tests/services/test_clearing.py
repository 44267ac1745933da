"""Monthly clearing with institutions (NX §10, §29): totals that reconcile, frozen months that stay frozen."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from sqlalchemy import select

from backend.errors import Unprocessable
from backend.extensions import db
from backend.models import ClearingReport, Institution, Settlement, SharingGrant, new_public_id, utcnow
from backend import demo
from backend.services import clearing, settlement_refunds, settlements
from backend.services import staff as staff_service
from backend.services.benefits import LOCAL_ZONE, local_today
from tests.benefits_fixtures import body_for, fen, item, make_person  # noqa: F401


@pytest.fixture
def app(make_app):
    """A fresh database per test: clearing totals are per institution and month, so tests must not share them."""
    app = make_app()
    with app.app_context():
        for code, name, kind, level, grade, region, certifier in demo.DEMO_INSTITUTIONS:
            db.session.add(Institution(code=code, name=name, kind=kind, level=level, grade=grade, region_code=region,
                                       secret=demo.demo_secret(code), is_chronic_certifier=certifier))
        db.session.commit()
        yield app


def months_ago(count: int) -> dt.date:
    """The first day of the month ``count`` months before this one (Beijing time)."""
    first = local_today().replace(day=1)
    for _ in range(count):
        first = (first - dt.timedelta(days=1)).replace(day=1)
    return first


def moment(day: dt.date, hour: int = 10) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, tzinfo=LOCAL_ZONE)


def institution(code: str) -> Institution:
    return db.session.scalar(select(Institution).where(Institution.code == code))


def month_of(day: dt.date) -> str:
    return day.strftime("%Y-%m")


@pytest.fixture
def busy_month(make_person):
    """Three months ago at NM-T-001: two settlements, one paid partly by a sharer, and one refund; one visit
    at NM-S-001. Returns the month and the settlements' responses."""
    day = months_ago(3) + dt.timedelta(days=9)
    hospital, other = institution("NM-T-001"), institution("NM-S-001")
    owner = make_person(region="nm", opening_balance_fen=fen(1000))
    relative = make_person(region="nm", person_type="retired", opening_balance_fen=fen(200))
    db.session.add(SharingGrant(id=new_public_id("G"), owner_person_id=owner.id, relative_person_id=relative.id,
                                relation="mother", channel="wechat", policy_version_code="nm-2023-01",
                                promise_text_version="v1", promise_accepted_at=utcnow()))
    db.session.commit()
    visit = day.isoformat()
    first = settlements.settle_direct(hospital, body_for(owner, item("3000"), use_account=True, visit_date=visit),
                                      now=moment(day))
    second = settlements.settle_direct(hospital, body_for(relative, item("2000"), use_account=True,
                                                          visit_date=visit), now=moment(day, 11))
    elsewhere = settlements.settle_direct(other, body_for(owner, item("500"), visit_date=visit), now=moment(day))
    refund = settlement_refunds.refund(hospital, second["setl_id"], {"refund_no": "TF-M"}, now=moment(day, 15))
    return month_of(day), first, second, elsewhere, refund


def yuan_fen(text: str) -> int:
    return fen(float(text))


def test_the_month_totals_add_up_the_settlements_and_refunds_and_reconcile(busy_month):
    month, first, second, _, refund = busy_month
    [report] = clearing.reports(month, "NM-T-001")
    totals = report["totals"]
    # Owner: (3000 − 1000) × 60 % = 1200 fund; personal 1800: 1000 own account, 800 cash.
    # Mother (retired): (2000 − 1000) × 65 % = 650 fund; personal 1350: 200 own, 1000 from her son, 150 cash.
    assert (first["hifp_pay"], first["acct_pay"], first["psn_cash_pay"]) == ("1200.00", "1000.00", "800.00")
    assert (second["hifp_pay"], second["acct_pay"], second["acct_mulaid_pay"]) == ("650.00", "200.00", "0.00")
    assert totals["settlements"] == 2
    assert totals["hifp_pay"] == fen(1200 + 650)
    assert totals["acct_pay"] == fen(1000 + 200)
    assert totals["psn_cash_pay"] == fen(800 + 1150)
    assert totals["refunds"] == 1 and totals["refund_hifp_pay"] == fen(650)
    assert totals["net_hifp_pay"] == fen(1200)
    assert totals["payable_to_institution"] == fen(1200 + 1000)  # the mother's visit was refunded in full
    assert sum(yuan_fen(refund[c]) for c in ("hifp_pay", "acct_pay", "acct_mulaid_pay", "psn_cash_pay")) == (
        yuan_fen(second["medfee_sumamt"]))
    assert report["reconciled"] and report["status"] == "open"
    assert {check["name"] for check in report["checks"]} >= {"own_account_payments_match_journal",
                                                              "own_account_refunds_match_journal"}


def test_a_frozen_month_stays_frozen_and_a_later_refund_lands_in_a_later_month(busy_month):
    month, first, *_ = busy_month
    frozen = clearing.freeze(month, "NM-T-001")
    refund_day = months_ago(2) + dt.timedelta(days=2)
    late = settlement_refunds.refund(institution("NM-T-001"), first["setl_id"], {"refund_no": "TF-LATE"},
                              now=moment(refund_day))
    [after] = clearing.reports(month, "NM-T-001")
    [next_month] = clearing.reports(month_of(refund_day), "NM-T-001")
    assert late["clearing_month"] == month_of(refund_day)
    assert after["status"] == "frozen" and after["totals"] == frozen[0]["totals"] and after["reconciled"]
    assert next_month["totals"]["refund_hifp_pay"] == fen(1200)
    assert clearing.freeze(month, "NM-T-001")[0]["frozen_at"] == frozen[0]["frozen_at"]  # freezing again: nothing
    assert db.session.get(Settlement, first["setl_id"]).clearing_month == month  # the settlement stays put


def test_something_happening_in_a_frozen_month_is_cleared_in_the_next_open_one(make_person):
    frozen_month = months_ago(1)
    clearing.freeze(month_of(frozen_month), "NM-S-001")
    person = make_person(region="nm")
    day = frozen_month + dt.timedelta(days=20)
    late = settlements.settle_direct(institution("NM-S-001"), body_for(person, visit_date=day.isoformat()),
                                     now=moment(day))
    assert late["clearing_month"] == month_of(local_today())


def test_only_a_month_that_has_ended_can_be_cleared():
    with pytest.raises(Unprocessable) as refused:
        clearing.freeze(month_of(local_today()))
    assert refused.value.reason == "month_not_ended"
    with pytest.raises(Unprocessable) as malformed:
        clearing.freeze("2024-13")
    assert malformed.value.reason == "invalid_month"


def test_the_csv_has_one_line_per_institution_in_yuan(busy_month):
    month, *_ = busy_month
    rows = list(csv.DictReader(io.StringIO(clearing.csv_text(clearing.reports(month)))))
    by_code = {row["institution_code"]: row for row in rows}
    assert set(by_code) == {"NM-C-001", "NM-S-001", "NM-T-001", "NX-P-001", "NX-S-001", "NX-T-001"}
    assert by_code["NM-T-001"]["hifp_pay"] == "1850.00"
    assert by_code["NM-T-001"]["payable_to_institution"] == "2200.00"
    # The owner's deductible was met at NM-T-001 first: 500 × 80 % at the secondary hospital.
    assert by_code["NM-S-001"]["settlements"] == "1" and by_code["NM-S-001"]["hifp_pay"] == "400.00"
    assert by_code["NX-T-001"]["settlements"] == "0" and by_code["NM-T-001"]["reconciled"] == "yes"


def test_the_cli_freezes_the_month_and_writes_the_csv(app, busy_month, tmp_path):
    month, *_ = busy_month
    out = tmp_path / "clearing.csv"
    result = app.test_cli_runner().invoke(args=["clearing", "--month", month, "--institution", "NM-T-001",
                                                "--out", str(out)])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(out.read_text("utf-8-sig"))))
    assert [(r["institution_code"], r["status"], r["net_hifp_pay"]) for r in rows] == [("NM-T-001", "frozen",
                                                                                        "1200.00")]
    assert db.session.scalar(select(ClearingReport.month).where(ClearingReport.month == month)) == month
    refused = app.test_cli_runner().invoke(args=["clearing", "--month", month_of(local_today())])
    assert refused.exit_code != 0 and "month_not_ended" in refused.output


def test_finance_downloads_the_csv_through_the_staff_api_as_an_administrator(client, busy_month):
    month, *_ = busy_month
    staff_service.upsert("admin9", "管理员", "demo-admin9", ["admin"])
    staff_service.upsert("agent9", "坐席", "demo-agent9", ["agent"])
    db.session.commit()

    def headers(name):
        token = client.post("/api/v1/staff/auth/login", json={"username": name, "password": f"demo-{name}"})
        return {"Authorization": f"Bearer {token.json['access_token']}"}

    admin = headers("admin9")
    download = client.get("/api/v1/staff/clearing/export.csv", query_string={"month": month}, headers=admin)
    report = client.get("/api/v1/staff/clearing", query_string={"month": month, "institution": "NM-T-001"},
                        headers=admin)
    frozen = client.post("/api/v1/staff/clearing/freeze", json={"month": month, "institution": "NM-T-001"},
                         headers=admin)
    denied = client.get("/api/v1/staff/clearing/export.csv", query_string={"month": month}, headers=headers("agent9"))
    assert download.status_code == 200 and download.mimetype == "text/csv"
    assert "NM-T-001" in download.get_data(as_text=True)
    # Money as every other response shows it: yuan strings (issue #11.8); counts stay numbers.
    totals = report.json["institutions"][0]["totals"]
    assert (totals["hifp_pay"], totals["payable_to_institution"]) == ("1850.00", "2200.00")
    assert isinstance(totals["settlements"], int)
    assert frozen.json["institutions"][0]["status"] == "frozen"
    assert denied.status_code == 403
