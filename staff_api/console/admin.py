"""账号管理, 政策版本 and 月度清算: the administrator's pages."""

from __future__ import annotations

import datetime as dt
import json

from flask import Response, flash, g, redirect, render_template, request, url_for

from backend.errors import AppError
from backend.services import clearing, policies, staff
from backend.services.benefits import local_today
from staff_api.console import blp
from staff_api.console.access import page
from staff_api.console.forms import ActionForm, PasswordResetForm, PolicyAddForm, StaffCreateForm, StaffRolesForm


# --- staff accounts ------------------------------------------------------------------------------------------------
@blp.route("/admin/users", methods=["GET", "POST"])
@page("admin")
def admin_users():
    form = StaffCreateForm()
    if form.validate_on_submit():
        try:
            created = staff.create(g.staff.id, username=form.username.data, display_name=form.display_name.data,
                                   roles=form.roles.data, password=form.password.data)
        except AppError as exc:
            form.username.errors.append(exc.message)
        else:
            flash(f"已创建账号 {created['username']}", "success")
            return redirect(url_for("console.admin_users"))
    return render_template("console/admin_users.html", accounts=staff.list_accounts(), form=form,
                           status=200 if request.method == "GET" else 422), 200 if request.method == "GET" else 422


@blp.route("/admin/users/<int:staff_id>", methods=["GET", "POST"])
@page("admin")
def admin_user(staff_id: int):
    account = staff.get_account(staff_id)
    form = StaffRolesForm(data={"display_name": account["display_name"], "roles": account["roles"]}
                          if request.method == "GET" else None)
    if form.validate_on_submit():
        staff.edit(g.staff.id, staff_id, roles=form.roles.data, display_name=form.display_name.data)
        flash("已保存", "success")
        return redirect(url_for("console.admin_user", staff_id=staff_id))
    return render_template("console/admin_user.html", account=account, form=form,
                           password_form=PasswordResetForm(), action=ActionForm())


@blp.route("/admin/users/<int:staff_id>/deactivate", methods=["POST"])
@page("admin")
def admin_user_deactivate(staff_id: int):
    account = staff.deactivate(g.staff.id, staff_id)
    flash(f"已停用 {account['username']}：其登录会话和令牌已立即失效", "success")
    return redirect(url_for("console.admin_user", staff_id=staff_id))


@blp.route("/admin/users/<int:staff_id>/reactivate", methods=["POST"])
@page("admin")
def admin_user_reactivate(staff_id: int):
    account = staff.reactivate(g.staff.id, staff_id)
    flash(f"已恢复 {account['username']}", "success")
    return redirect(url_for("console.admin_user", staff_id=staff_id))


@blp.route("/admin/users/<int:staff_id>/password", methods=["POST"])
@page("admin")
def admin_user_password(staff_id: int):
    form = PasswordResetForm()
    if not form.validate_on_submit():
        flash("；".join(form.password.errors) or "请填写新密码", "error")
    else:
        account = staff.reset_password(g.staff.id, staff_id, form.password.data)
        flash(f"已重置 {account['username']} 的密码，其原有登录已全部失效", "success")
    return redirect(url_for("console.admin_user", staff_id=staff_id))


# --- policy versions -----------------------------------------------------------------------------------------------
@blp.route("/admin/policies", methods=["GET", "POST"])
@page("admin")
def admin_policies():
    form = PolicyAddForm()
    if form.validate_on_submit():
        try:
            document = json.loads(form.document.data)
            if not isinstance(document, dict):
                raise ValueError("not an object")
            row = policies.add_version(document, staff_id=g.staff.id, today=local_today())
        except ValueError:
            form.document.errors.append("不是有效的 JSON 对象")
        except AppError as exc:
            form.document.errors.append(exc.message + _problems(exc))
        else:
            flash(f"已新增政策版本 {row.code}", "success")
            return redirect(url_for("console.admin_policy", code=row.code))
    return render_template("console/admin_policies.html", versions=policies.version_views(local_today()), form=form), \
        200 if request.method == "GET" else 422


@blp.route("/admin/policies/<code>")
@page("admin")
def admin_policy(code: str):
    return render_template("console/admin_policy.html", version=policies.version_detail(code, local_today()))


def _problems(exc: AppError) -> str:
    problems = exc.details.get("problems") or exc.details.get("errors")
    return "：" + "；".join(map(str, problems)) if isinstance(problems, list) else ""


# --- monthly clearing ----------------------------------------------------------------------------------------------
@blp.route("/admin/clearing")
@page("admin")
def admin_clearing():
    month = request.args.get("month") or _last_month()
    return render_template("console/admin_clearing.html", month=month, reports=clearing.reports(month))


@blp.route("/admin/clearing/export.csv")
@page("admin")
def admin_clearing_csv():
    month = request.args.get("month") or _last_month()
    text = clearing.csv_text(clearing.reports(month))
    return Response("\ufeff" + text, mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="clearing-{month}.csv"'})


def _last_month() -> str:
    return (local_today().replace(day=1) - dt.timedelta(days=1)).strftime("%Y-%m")
