"""窗口服务: find a person, see their situation, act on their behalf (sharing with the signed 承诺书, transfer-out)."""

from __future__ import annotations

from flask import flash, g, redirect, render_template, request, send_file, url_for

from backend.errors import AppError
from backend.services import accounts, counter
from staff_api.console import blp
from staff_api.console.access import COUNTER, page
from staff_api.console.forms import (
    CounterGrantForm, CounterRevokeForm, PersonSearchForm, RevealForm, TransferOutForm, choices,
)


@blp.route("/counter/")
@page(*COUNTER)
def counter_search():
    form = PersonSearchForm(request.args)
    results, searched = [], bool(request.args)
    if searched and form.validate():
        try:
            results = counter.find(g.staff.id, name=form.name.data, id_number=form.id_number.data)
        except AppError as exc:
            flash(exc.message, "error")
    return render_template("console/counter_search.html", form=form, results=results, searched=searched)


@blp.route("/counter/people/<int:person_id>")
@page(*COUNTER)
def counter_person(person_id: int):
    return _person_page(person_id, counter.open_person(g.staff.id, person_id))


@blp.route("/counter/people/<int:person_id>/reveal", methods=["POST"])
@page(*COUNTER)
def counter_reveal(person_id: int):
    """The full ID number, shown on this response only (never stored in the cookie or a redirect)."""
    form = RevealForm()
    if not form.validate_on_submit():
        flash("请说明查看完整身份证号码的原因", "error")
        return redirect(url_for("console.counter_person", person_id=person_id))
    revealed = counter.reveal_id_number(g.staff.id, person_id, form.purpose.data)
    return _person_page(person_id, counter.overview(person_id), revealed=revealed)


@blp.route("/counter/people/<int:person_id>/grants", methods=["POST"])
@page(*COUNTER)
def counter_grant(person_id: int):
    form = _grant_form(person_id)
    if not form.validate_on_submit():
        return _person_page(person_id, counter.overview(person_id), grant_form=form), 422
    upload = form.promise.data
    try:
        grant = counter.grant_for(g.staff.id, person_id, relative_name=form.relative_name.data.strip(),
                                  relative_id_number=form.relative_id_number.data.strip(),
                                  relation=form.relation.data, promise_filename=upload.filename or "",
                                  promise_bytes=upload.read())
    except AppError as exc:
        form.relative_id_number.errors.append(exc.message)
        return _person_page(person_id, counter.overview(person_id), grant_form=form), int(exc.status)
    flash(f"已为其授权{grant['relative']['name']}（{grant['relation_label']}）使用个人账户，即时生效", "success")
    return redirect(url_for("console.counter_person", person_id=person_id))


@blp.route("/counter/people/<int:person_id>/grants/<grant_id>/revoke", methods=["POST"])
@page(*COUNTER)
def counter_revoke(person_id: int, grant_id: str):
    form = CounterRevokeForm()
    if not form.validate_on_submit():
        flash("；".join(form.promise.errors) or "请上传签字的承诺书扫描件", "error")
        return redirect(url_for("console.counter_person", person_id=person_id))
    upload = form.promise.data
    grant = counter.revoke_for(g.staff.id, person_id, grant_id, promise_filename=upload.filename or "",
                               promise_bytes=upload.read())
    flash(f"已解除对{grant['relative']['name']}的授权，即时生效", "success")
    return redirect(url_for("console.counter_person", person_id=person_id))


@blp.route("/counter/grants/<grant_id>/promise/<which>")
@page(*COUNTER)
def counter_promise(grant_id: str, which: str):
    """The stored scan, inline (an image or a PDF the browser shows)."""
    path, content_type, name = counter.promise_file(g.staff.id, grant_id, which)
    return send_file(path, mimetype=content_type, download_name=name, as_attachment=False)


@blp.route("/counter/people/<int:person_id>/transfer-out", methods=["POST"])
@page("admin")
def counter_transfer_out(person_id: int):
    form = TransferOutForm()
    if not form.validate_on_submit():
        flash("请填写转入地并确认", "error")
        return redirect(url_for("console.counter_person", person_id=person_id))
    result = accounts.transfer_out(person_id, staff_id=g.staff.id, destination=form.destination.data.strip())
    flash(f"已转出 {result['amount']} 元至{result['destination']}，个人账户已关闭", "success")
    return redirect(url_for("console.counter_person", person_id=person_id))


def _grant_form(person_id: int) -> CounterGrantForm:
    form = CounterGrantForm()
    facts = counter.grant_form_facts(person_id)
    form.relation.choices = choices([("", "请选择"), *((r["code"], r["label"]) for r in facts["relations"])])
    return form


def _person_page(person_id: int, view: dict, *, revealed: str | None = None, grant_form: CounterGrantForm | None = None):
    return render_template("console/counter_person.html", view=view, revealed=revealed,
                           grant_form=grant_form or _grant_form(person_id), revoke_form=CounterRevokeForm(),
                           reveal_form=RevealForm(), transfer_form=TransferOutForm(),
                           promise=counter.grant_form_facts(person_id))
