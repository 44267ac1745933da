"""Chat escalations for service agents: the waiting queue, claim, the transcript, reply, close (issue 6 §6)."""

from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from backend.services import agent_desk, chat
from backend.web.auth import require_staff
from backend.web.idempotency import idempotent
from backend.web.schemas.chat import TranscriptMessageSchema

blp = Blueprint("staff_escalations", __name__, url_prefix="/api/v1/staff/escalations",
                description="转人工会话：待接入队列、领取、查看对话、回复、结束")

AGENTS = ("agent",)


class EscalationPersonSchema(Schema):
    name = fields.String()
    id_number_masked = fields.String()
    region = fields.String()
    person_type = fields.String()
    status = fields.String()


class EscalationSchema(Schema):
    escalation_id = fields.String()
    session_id = fields.String()
    status = fields.String(metadata={"description": "waiting | claimed | closed"})
    reason = fields.String(metadata={"description": "requested | not_understood | reprompts_exhausted"})
    person = fields.Nested(EscalationPersonSchema, allow_none=True, metadata={"description": "匿名会话为空"})
    claimed_by = fields.String(allow_none=True)
    created_at = fields.DateTime()
    claimed_at = fields.DateTime(allow_none=True)
    closed_at = fields.DateTime(allow_none=True)
    closed_reason = fields.String(allow_none=True, metadata={"description": "agent | timeout"})


class EscalationDetailSchema(EscalationSchema):
    transcript = fields.List(fields.Nested(TranscriptMessageSchema))


class ReplySchema(Schema):
    text = fields.String(required=True, validate=validate.Length(min=1, max=2000))


@blp.route("")
class Queue(MethodView):
    decorators = [require_staff(*AGENTS)]

    @blp.response(200, EscalationSchema(many=True))
    @blp.doc(security=[{"bearer": []}])
    def get(self):
        """Waiting escalations, oldest first, and those I hold"""
        return chat.escalation_queue(g.staff)


@blp.route("/<escalation_id>")
class Escalation(MethodView):
    decorators = [require_staff(*AGENTS)]

    @blp.response(200, EscalationDetailSchema)
    @blp.doc(security=[{"bearer": []}])
    def get(self, escalation_id):
        """The escalation with the conversation so far (a read of personal data: audited)"""
        return agent_desk.open_conversation(g.staff, escalation_id)


@blp.route("/<escalation_id>/claim")
class Claim(MethodView):
    decorators = [require_staff(*AGENTS)]

    @idempotent
    @blp.response(200, EscalationDetailSchema)
    @blp.doc(security=[{"bearer": []}])
    def post(self, escalation_id):
        """Take the conversation over from the bot (409 if another agent was first)"""
        return chat.claim(escalation_id, g.staff)


@blp.route("/<escalation_id>/replies")
class Reply(MethodView):
    decorators = [require_staff(*AGENTS)]

    @idempotent
    @blp.arguments(ReplySchema)
    @blp.response(201, TranscriptMessageSchema)
    @blp.doc(security=[{"bearer": []}])
    def post(self, body, escalation_id):
        """Write to the person: the message appears in their session"""
        return chat.reply(escalation_id, g.staff, body["text"])


@blp.route("/<escalation_id>/close")
class Close(MethodView):
    decorators = [require_staff(*AGENTS)]

    @idempotent
    @blp.response(200, EscalationSchema)
    @blp.doc(security=[{"bearer": []}])
    def post(self, escalation_id):
        """End the human service: the bot answers the person again"""
        return chat.close(escalation_id, g.staff)
