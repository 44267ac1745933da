"""The console in a real browser: signing in and out, roles, CSRF, and the administrator's day (a new reviewer who
signs in, then is deactivated), with screenshots of the pages."""

from __future__ import annotations

import re

from playwright.sync_api import expect


def test_signing_in_and_out(staff_page, screenshot):
    page = staff_page()
    page.goto("/staff/")
    expect(page).to_have_url(re.compile(r"/staff/sign-in\?next=/staff/"))
    screenshot(page, "01-sign-in")
    page.get_by_label("用户名").fill("reviewer1")
    page.get_by_label("密码").fill("wrong-password")
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("alert")).to_contain_text("用户名或密码错误")
    page.get_by_label("密码").fill("demo-reviewer1")
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("您好")
    expect(page.get_by_role("navigation", name="主导航")).to_contain_text("审核工作台")
    screenshot(page, "02-dashboard-reviewer")
    page.get_by_role("button", name="退出登录").click()
    expect(page.get_by_role("status")).to_contain_text("您已安全退出")
    page.goto("/staff/")
    expect(page).to_have_url(re.compile(r"/staff/sign-in"))


def test_a_reviewer_cannot_open_administration(staff_page):
    page = staff_page("reviewer1")
    expect(page.get_by_role("navigation", name="主导航")).not_to_contain_text("账号管理")
    response = page.goto("/staff/admin/users")
    assert response.status == 403
    expect(page.get_by_role("heading", level=1)).to_have_text("无权访问")


def test_a_form_posted_without_its_csrf_token_is_refused(staff_page):
    page = staff_page("admin1")
    page.goto("/staff/admin/users")
    page.get_by_label("用户名").fill("sneaky")
    page.get_by_label("姓名").fill("偷偷")
    page.get_by_label("初始密码").fill("a-long-secret")
    page.get_by_label("客服（人工客服、窗口）").check()
    page.locator("form[action='/staff/admin/users'] input[name=csrf_token]").evaluate("input => input.remove()")
    page.get_by_role("button", name="创建账号").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("页面已过期")
    page.goto("/staff/admin/users")
    expect(page.locator("table")).not_to_contain_text("sneaky")


def test_an_administrator_creates_a_reviewer_who_signs_in_and_is_then_deactivated(staff_page, screenshot):
    admin = staff_page("admin1")
    admin.get_by_role("link", name="账号管理").first.click()
    admin.get_by_label("用户名").fill("reviewer9")
    admin.get_by_label("姓名").fill("初审 新同事")
    admin.get_by_label("初始密码").fill("first-day-secret")
    admin.get_by_label("初审").check()
    admin.get_by_role("button", name="创建账号").click()
    expect(admin.get_by_role("status")).to_contain_text("已创建账号 reviewer9")
    screenshot(admin, "08-admin-users")

    newcomer = staff_page("reviewer9", "first-day-secret")
    expect(newcomer.get_by_role("heading", level=1)).to_contain_text("初审 新同事")
    newcomer.get_by_role("link", name="审核工作台").click()
    expect(newcomer.get_by_role("heading", level=1)).to_have_text("审核工作台")

    admin.get_by_role("link", name="管理 reviewer9").click()
    admin.once("dialog", lambda dialog: dialog.accept())
    admin.get_by_role("button", name="停用账号").click()
    expect(admin.get_by_role("status")).to_contain_text("已停用 reviewer9")

    newcomer.reload()
    expect(newcomer).to_have_url(re.compile(r"/staff/sign-in"))
    newcomer.get_by_label("用户名").fill("reviewer9")
    newcomer.get_by_label("密码").fill("first-day-secret")
    newcomer.get_by_role("button", name="登录").click()
    expect(newcomer.get_by_role("alert")).to_contain_text("用户名或密码错误")

    admin.goto("/staff/audit?group=staff_admin")
    expect(admin.locator("table")).to_contain_text("staff.deactivated")
    admin.goto("/staff/audit")
    screenshot(admin, "09-audit-log")
