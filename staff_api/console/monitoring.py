"""智能监控 (NX §33): the flags raised by the rules, reviewed one by one (confirm or dismiss, with a comment)."""

from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for

from backend.services import monitoring
from staff_api.console import blp
from staff_api.console.access import page
from staff_api.console.forms import FlagReviewForm

MONITORS = ("leader", "admin")


@blp.route("/monitoring/")
@page(*MONITORS)
def monitoring_flags():
    status = request.args.get("status", "open")
    result = monitoring.list_flags(status=status or None, rule_code=request.args.get("rule") or None,
                                   page=request.args.get("page", 1, type=int))
    return render_template("console/monitoring_flags.html", result=result, rules=monitoring.rules(),
                           status=status, rule=request.args.get("rule", ""), statuses=monitoring.STATUS_LABELS)


@blp.route("/monitoring/flags/<int:flag_id>", methods=["GET", "POST"])
@page(*MONITORS)
def monitoring_flag(flag_id: int):
    form = FlagReviewForm()
    if form.validate_on_submit():
        monitoring.review(g.staff.id, flag_id, form.outcome.data, form.comment.data)
        flash("已记录核查结论", "success")
        return redirect(url_for("console.monitoring_flags"))
    flag = monitoring.get_flag(flag_id)
    return render_template("console/monitoring_flag.html", flag=flag, rule=monitoring.rule(flag["rule"]),
                           form=form), 200 if request.method == "GET" else 422
