"""A leader works a monitoring flag in the browser; the administrator's policy and clearing pages."""

from __future__ import annotations

from playwright.sync_api import expect

from backend.services import monitoring
from tests.conftest import signed_request
from tests.e2e.citizen import VISIT
from tests.conftest import new_person


def test_a_leader_dismisses_a_monitoring_flag_with_a_comment(staff_page, live_app, screenshot):
    person = new_person(801, name="监控对象")
    client = live_app.test_client()
    visit = {"id_number": person.id_number, "visit_date": VISIT.isoformat(), "med_type": "general",
             "items": [{"code": "X1", "name": "诊查费", "amount": "50.00", "in_scope": True}],
             "use_account": False, "invoice_no": "E2E-INV-1"}
    assert signed_request(client, "/api/v1/institution/settlements", {**visit, "order_no": "A"}, "NX-T-001") \
        .status_code == 201
    assert signed_request(client, "/api/v1/institution/settlements", {**visit, "order_no": "B"}, "NX-S-001") \
        .status_code == 409
    assert monitoring.scan() == 1

    leader = staff_page("leader1")
    leader.get_by_role("link", name="智能监控").first.click()
    expect(leader.locator("table").first).to_contain_text("同一发票号出现在两家机构")
    screenshot(leader, "10-monitoring")
    leader.get_by_role("link", name="核查").click()
    leader.get_by_label("结论").select_option(label="排除（无异常）")
    leader.get_by_label("审核说明").fill("同号发票系两家医院各自开具，已电话核实")
    leader.get_by_role("button", name="提交").click()
    expect(leader.get_by_role("status")).to_contain_text("已记录核查结论")
    leader.goto("/staff/monitoring/?status=dismissed")
    expect(leader.locator("table").first).to_contain_text("已排除")


def test_policy_versions_are_listed_read_only_and_clearing_downloads_as_csv(staff_page, screenshot):
    admin = staff_page("admin1")
    admin.get_by_role("link", name="政策版本").first.click()
    expect(admin.get_by_text("现行（只读）").first).to_be_visible()
    screenshot(admin, "11-policies")
    admin.get_by_role("link", name="nx-2024-01").click()
    expect(admin.locator("pre.json")).to_contain_text('"version": "nx-2024-01"')
    admin.get_by_role("link", name="月度清算").first.click()
    expect(admin.locator("table")).to_contain_text("NX-T-001")
    screenshot(admin, "12-clearing")
    with admin.expect_download() as download:
        admin.get_by_role("link", name="下载 CSV（元）").click()
    assert download.value.suggested_filename.startswith("clearing-")
