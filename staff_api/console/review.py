"""审核工作台: the queues with filters and paging, and the case with its materials, history, settlement preview,
claim / release and the decision form."""

from __future__ import annotations

import datetime as dt

from flask import flash, g, redirect, render_template, request, send_file, url_for

from backend.domain.money import yuan_to_fen
from backend.services import applications, review_desk
from staff_api.console import blp
from staff_api.console.access import REVIEWERS, page
from staff_api.console.filters import BEIJING
from staff_api.console.forms import DECISION_LABELS, ActionForm, DecisionForm

VIEWERS = (*REVIEWERS, "admin")


@blp.route("/review/")
@page(*VIEWERS)
def review_queue():
    args = request.args
    default_queue = "all" if "admin" in g.staff.roles and not set(REVIEWERS) & set(g.staff.roles) else "step"
    filters = review_desk.QueueFilters(
        queue=args.get("queue") if args.get("queue") in review_desk.QUEUES else default_queue,
        kind=args.get("kind") if args.get("kind") in review_desk.KINDS else None,
        step=args.get("step") if args.get("step") in review_desk.STEPS else None,
        submitted_from=_day_start(args.get("from")), submitted_until=_day_start(args.get("to"), next_day=True),
        amount_min_fen=_fen(args.get("amount_min")), amount_max_fen=_fen(args.get("amount_max")),
        person=(args.get("person") or "").strip() or None)
    result = review_desk.search(g.staff, filters, page=args.get("page", 1, type=int))
    return render_template("console/review_queue.html", result=result, filters=filters, args=args,
                           queues=review_desk.QUEUES, kinds=review_desk.KINDS, steps=review_desk.STEPS)


@blp.route("/review/<application_id>")
@page(*VIEWERS)
def review_case(application_id: str):
    return render_template("console/review_case.html", case=review_desk.open_case(g.staff, application_id),
                           form=DecisionForm(), action=ActionForm())


@blp.route("/review/<application_id>/attachments/<int:attachment_id>")
@page(*VIEWERS)
def review_attachment(application_id: str, attachment_id: int):
    """Inline, so images and PDFs show in the page (the browser's own PDF viewer)."""
    found, path = review_desk.attachment(g.staff, application_id, attachment_id)
    response = send_file(path, mimetype=found.content_type, download_name=found.filename, as_attachment=False)
    # Shown inside the case page (a PDF in a frame): framing by this origin only, and the file may run nothing.
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    response.headers["Content-Security-Policy"] = "default-src 'self'; script-src 'none'; frame-ancestors 'self'"
    return response


@blp.route("/review/<application_id>/claim", methods=["POST"])
@page(*REVIEWERS)
def review_claim(application_id: str):
    applications.claim(application_id, g.staff)
    flash("已领取，该申请已进入“我已领取”", "success")
    return redirect(url_for("console.review_case", application_id=application_id))


@blp.route("/review/<application_id>/release", methods=["POST"])
@page(*VIEWERS)
def review_release(application_id: str):
    applications.release(application_id, g.staff)
    flash("已释放，该申请回到本环节的待办队列", "success")
    return redirect(url_for("console.review_case", application_id=application_id))


@blp.route("/review/<application_id>/decisions", methods=["POST"])
@page(*REVIEWERS)
def review_decide(application_id: str):
    form = DecisionForm()
    if not form.validate_on_submit():
        flash("请完整填写审核决定", "error")
        return redirect(url_for("console.review_case", application_id=application_id))
    view = applications.decide(application_id, g.staff, form.decision.data, (form.comment.data or "").strip() or None,
                               form.reason_code.data or None)
    flash(f"已提交：{DECISION_LABELS[form.decision.data]}。申请当前状态：{view['status_label']}", "success")
    return redirect(url_for("console.review_queue"))


def _day_start(text: str | None, next_day: bool = False) -> dt.datetime | None:
    try:
        day = dt.date.fromisoformat(text) if text else None
    except ValueError:
        return None
    if day is None:
        return None
    return dt.datetime.combine(day + dt.timedelta(days=1 if next_day else 0), dt.time(), tzinfo=BEIJING)


def _fen(text: str | None) -> int | None:
    try:
        return yuan_to_fen(text) if text else None
    except (ValueError, ArithmeticError):
        return None
