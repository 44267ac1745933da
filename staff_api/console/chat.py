"""人工客服: the waiting conversations and mine; one conversation with the caller's context, reply and close."""

from __future__ import annotations

from flask import flash, g, make_response, redirect, render_template, request, url_for

from backend.services import agent_desk, chat
from staff_api.console import blp
from staff_api.console.access import page
from staff_api.console.forms import ActionForm, ReplyForm

AGENTS = ("agent",)


@blp.route("/chat/")
@page(*AGENTS)
def chat_queue():
    return render_template("console/chat_queue.html", escalations=chat.escalation_queue(g.staff),
                           action=ActionForm())


@blp.route("/chat/<escalation_id>")
@page(*AGENTS)
def chat_session(escalation_id: str):
    return render_template("console/chat_session.html", view=agent_desk.open_conversation(g.staff, escalation_id),
                           form=ReplyForm(), action=ActionForm())


@blp.route("/chat/<escalation_id>/messages")
@page(*AGENTS)
def chat_messages(escalation_id: str):
    """New messages as an HTML fragment (polled by console.js); the last id travels in a header."""
    result = agent_desk.messages_after(escalation_id, request.args.get("after", 0, type=int))
    response = make_response(render_template("console/chat_messages.html", messages=result["messages"]))
    response.headers["X-Last-Message-Id"] = str(result["last_message_id"])
    response.headers["X-Escalation-Status"] = result["status"]
    return response


@blp.route("/chat/<escalation_id>/claim", methods=["POST"])
@page(*AGENTS)
def chat_claim(escalation_id: str):
    chat.claim(escalation_id, g.staff)
    flash("已接入该会话，机器人暂停应答", "success")
    return redirect(url_for("console.chat_session", escalation_id=escalation_id))


@blp.route("/chat/<escalation_id>/replies", methods=["POST"])
@page(*AGENTS)
def chat_reply(escalation_id: str):
    form = ReplyForm()
    if form.validate_on_submit():
        chat.reply(escalation_id, g.staff, form.text.data.strip())
    else:
        flash("请输入回复内容", "error")
    return redirect(url_for("console.chat_session", escalation_id=escalation_id) + "#reply")


@blp.route("/chat/<escalation_id>/close", methods=["POST"])
@page(*AGENTS)
def chat_close(escalation_id: str):
    chat.close(escalation_id, g.staff)
    flash("会话已结束，机器人恢复应答", "success")
    return redirect(url_for("console.chat_queue"))
