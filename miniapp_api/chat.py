"""The chatbot (DESIGN §4.7): understanding only, a conversation turn, and the transcript with agents' replies."""

from flask import current_app, g, request
from flask_limiter.util import get_remote_address
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import EXCLUDE, Schema, fields, validate

from backend.extensions import limiter
from backend.intents import conversation, nlu
from backend.services import chat
from backend.services.benefits import local_today
from backend.web.auth import optional_person
from backend.web.idempotency import idempotent
from backend.web.schemas.chat import TranscriptMessageSchema

blp = Blueprint("chat", __name__, url_prefix="/api/v1/chat", description="智能客服：意图识别、对话、转人工")

SECRET_HEADER = "X-Chat-Session-Secret"
MAX_TEXT = 500  # what /nlu reads
# A chat message longer than the bot reads is answered by the bot (asking for a shorter question), not refused;
# this ceiling only keeps absurd bodies out.
MAX_MESSAGE_TEXT = 20_000


def _nlu_limit() -> str:
    return current_app.config["CHAT_NLU_RATE_LIMIT"]


def _message_limit() -> str:
    return current_app.config["CHAT_MESSAGE_RATE_LIMIT"]


def _ip_limit() -> str:
    return current_app.config["CHAT_IP_RATE_LIMIT"]


def _caller() -> str:
    """Whose allowance a chat request uses: the signed-in person's, else the session's, else the address's."""
    if g.get("person_id") is not None:
        return f"chat-person:{g.person_id}"
    body = request.get_json(silent=True)
    session_id = body.get("session_id") if isinstance(body, dict) else None
    if isinstance(session_id, str) and session_id:
        return f"chat-session:{session_id[:32]}"
    return f"chat-ip:{get_remote_address()}"


def _address() -> str:
    return f"chat-ceiling:{get_remote_address()}"


def _limits(per_caller) -> list:
    """The per-caller limit and the per-address ceiling; optional_person runs first (last in the list is the
    outermost decorator), so the caller is known when the limits are counted."""
    return [limiter.limit(per_caller, key_func=_caller), limiter.limit(_ip_limit, key_func=_address), optional_person]


class TextSchema(Schema):
    text = fields.String(required=True, validate=validate.Length(min=1, max=MAX_TEXT))


class EntitySchema(Schema):
    type = fields.String(metadata={"description": "relation, id_number, person_name, amount, hospital_level, date"})
    value = fields.String()
    text = fields.String()
    start = fields.Integer()
    end = fields.Integer()


class IntentScoreSchema(Schema):
    intent = fields.String()
    confidence = fields.Float()


class NluSchema(Schema):
    intent = fields.String()
    confidence = fields.Float()
    is_ambiguous = fields.Boolean()
    ranking = fields.List(fields.Nested(IntentScoreSchema))
    entities = fields.List(fields.Nested(EntitySchema))


class MessageRequestSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    session_id = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=32),
                               metadata={"description": "省略则开始新会话"})
    text = fields.String(required=True, validate=validate.Length(min=1, max=MAX_MESSAGE_TEXT))
    session_secret = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=64), metadata={
        "description": f"匿名会话的会话密钥（也可放在 {SECRET_HEADER} 请求头）"})


class TurnSchema(Schema):
    session_id = fields.String()
    intent = fields.String(allow_none=True)
    replies = fields.List(fields.Dict(), metadata={
        "description": '{"type": "text"|"choices"|"card", "text", "choices": [{"label", "value"}], "card", ...}'})
    handoff = fields.Boolean(metadata={"description": "已转人工（或人工客服正在处理本会话）"})
    session_secret = fields.String(metadata={"description": "匿名会话：读取或继续本会话时需提供"})


class MessagesQuerySchema(Schema):
    after = fields.Integer(load_default=None, validate=validate.Range(min=0),
                           metadata={"description": "只返回该消息编号之后的消息"})


class TranscriptSchema(Schema):
    session_id = fields.String()
    handoff = fields.Boolean()
    escalation_status = fields.String(allow_none=True)
    messages = fields.List(fields.Nested(TranscriptMessageSchema))


@blp.route("/nlu")
class Understand(MethodView):
    decorators = _limits(_nlu_limit)

    @blp.arguments(TextSchema)
    @blp.response(200, NluSchema)
    def post(self, body):
        """Intent, confidence, ranking and entities of one message (no sign-in needed)"""
        return nlu.understand(body["text"], local_today()).as_dict()


@blp.route("/messages")
class Messages(MethodView):
    decorators = _limits(_message_limit)

    @idempotent
    @blp.arguments(MessageRequestSchema)
    @blp.response(200, TurnSchema)
    @blp.doc(security=[{}, {"bearer": []}])
    def post(self, body):
        """Send a message; the bot's replies come back (Bearer token optional: personal answers need it)"""
        secret = body["session_secret"] or request.headers.get(SECRET_HEADER)
        return conversation.post_message(body["text"], person_id=g.person_id, session_id=body["session_id"], secret=secret)


@blp.route("/sessions/<session_id>/messages")
class SessionMessages(MethodView):
    decorators = [optional_person]

    @blp.arguments(MessagesQuerySchema, location="query")
    @blp.response(200, TranscriptSchema)
    @blp.doc(security=[{}, {"bearer": []}])
    def get(self, query, session_id):
        """The conversation (agents' replies included) after a message id, for the session's owner only"""
        return chat.messages(session_id, person_id=g.person_id, secret=request.headers.get(SECRET_HEADER),
                             after=query["after"])
