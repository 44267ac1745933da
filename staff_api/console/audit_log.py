"""审计日志: who did what to which object, when — decisions, grants, sign-ins and failures, policy changes and
every read of personal data."""

from __future__ import annotations

import datetime as dt

from flask import render_template, request

from backend.services import audit
from staff_api.console import blp
from staff_api.console.access import page
from staff_api.console.filters import BEIJING
from staff_api.console.forms import AuditFilterForm, choices


@blp.route("/audit")
@page("admin")
def audit_log():
    form = AuditFilterForm(request.args)
    form.group.choices = choices([("", "全部"), *((key, label) for key, (label, _) in audit.ACTION_GROUPS.items())])
    result = {"items": [], "total": 0, "page": 1, "page_size": 50}
    if form.validate():
        result = audit.search(
            actor=form.actor.data, group=form.group.data or None, action=form.action.data,
            object_type=form.object_type.data, object_id=form.object_id.data,
            since=_start_of(form.since.data), until=_start_of(form.until.data, next_day=True),
            page=request.args.get("page", 1, type=int), page_size=50)
    return render_template("console/audit_log.html", form=form, result=result)


def _start_of(day: dt.date | None, next_day: bool = False) -> dt.datetime | None:
    """A Beijing calendar day's start (or the next day's, for an inclusive end date)."""
    if day is None:
        return None
    return dt.datetime.combine(day + dt.timedelta(days=1 if next_day else 0), dt.time(), tzinfo=BEIJING)
