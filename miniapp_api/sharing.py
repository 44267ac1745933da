"""Family sharing (家庭共济, DESIGN §4.8): grant, revoke, grant again, both directions, and the 承诺书 to accept."""

from flask import g, request
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from backend.errors import Unprocessable
from backend.services import sharing
from backend.web.auth import require_person
from backend.web.idempotency import idempotent
from backend.web.schemas.sharing import GrantSchema

blp = Blueprint("sharing", __name__, url_prefix="/api/v1/sharing", description="家庭共济：授权、解除授权、重新授权")

# Channels a mini-program or app may name in X-Channel; "counter" is the staff API's and "chat" the chatbot's.
HEADER_CHANNELS = ("wechat", "alipay", "app", "web")


class GrantRequestSchema(Schema):
    relative_name = fields.String(required=True, validate=validate.Length(min=1, max=64))
    relative_id_number = fields.String(required=True, validate=validate.Length(min=1, max=32))
    relation = fields.String(required=True, validate=validate.Length(min=1, max=32),
                             metadata={"description": "spouse, father, mother, father_in_law, mother_in_law, son, "
                                                      "daughter, sibling, grandparent, grandchild (per policy)"})
    promise_accepted = fields.Boolean(required=True, metadata={"description": "已阅读并同意《承诺书》"})


class GrantListQuerySchema(Schema):
    direction = fields.String(load_default="given", validate=validate.OneOf(("given", "received")))
    status = fields.String(validate=validate.OneOf(("active", "revoked")))


class RelationSchema(Schema):
    code = fields.String()
    label = fields.String()


class PromiseSchema(Schema):
    version = fields.String()
    text = fields.String()
    relations = fields.List(fields.Nested(RelationSchema))


@blp.route("/promise")
class Promise(MethodView):
    decorators = [require_person]

    @blp.response(200, PromiseSchema)
    @blp.doc(security=[{"bearer": []}])
    def get(self):
        """The 承诺书 to show and accept before granting, with the relations the policy in force allows"""
        return sharing.promise_for(g.person_id)


@blp.route("/grants")
class Grants(MethodView):
    decorators = [require_person]

    @blp.arguments(GrantListQuerySchema, location="query")
    @blp.response(200, GrantSchema(many=True))
    @blp.doc(security=[{"bearer": []}])
    def get(self, query):
        """Grants I gave (direction=given) or received (direction=received), newest first"""
        found = sharing.list_grants(g.person_id, query["direction"], status=query.get("status"))
        return [sharing.grant_view(grant, g.person_id) for grant in found]

    @idempotent
    @blp.arguments(GrantRequestSchema)
    @blp.response(201, GrantSchema)
    @blp.doc(security=[{"bearer": []}], parameters=[{
        "in": "header", "name": "X-Channel", "required": False, "schema": {"type": "string", "enum": HEADER_CHANNELS},
        "description": "办理渠道；缺省时按登录平台判断，无法判断为 app"}])
    def post(self, body):
        """Authorise a relative to use my individual account (effective at once)"""
        grant = sharing.grant(
            g.person_id, relative_name=body["relative_name"], relative_id_number=body["relative_id_number"],
            relation=body["relation"], promise_accepted=body["promise_accepted"], channel=channel_of_request(),
        )
        return sharing.grant_view(grant, g.person_id)


@blp.route("/grants/<string:grant_id>")
class GrantDetail(MethodView):
    decorators = [require_person]

    @blp.response(200, GrantSchema)
    @blp.doc(security=[{"bearer": []}])
    def get(self, grant_id):
        """One grant I gave or received (anyone else's is 404)"""
        return sharing.grant_view(sharing.get_for_person(g.person_id, grant_id), g.person_id)


@blp.route("/grants/<string:grant_id>/revoke")
class GrantRevoke(MethodView):
    decorators = [require_person]

    @idempotent
    @blp.response(200, GrantSchema)
    @blp.doc(security=[{"bearer": []}])
    def post(self, grant_id):
        """Revoke a grant I gave (effective for the very next payment); granting again makes a new grant"""
        grant = sharing.revoke(g.person_id, grant_id, channel=channel_of_request())
        return sharing.grant_view(grant, g.person_id)


def channel_of_request() -> str:
    """X-Channel when given; else the platform the person is bound on, when there is exactly one; else "app"."""
    named = request.headers.get("X-Channel")
    if named is not None:
        if named not in HEADER_CHANNELS:
            raise Unprocessable("不支持的办理渠道", reason="channel_invalid", allowed=list(HEADER_CHANNELS))
        return named
    return sharing.default_channel(g.person_id)
