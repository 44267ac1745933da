"""Smart-monitoring flags (NX §33) for staff: list, one flag, and its review (confirm / dismiss with a comment)."""

from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from backend.services import monitoring
from backend.web.auth import require_staff
from backend.web.idempotency import idempotent

blp = Blueprint("staff_monitoring", __name__, url_prefix="/api/v1/staff/monitoring",
                description="智能监控预警（NX §33）：规则、预警列表与核查")

MONITORS = ("leader", "admin")


class FlagQuerySchema(Schema):
    status = fields.String(load_default="open", validate=validate.OneOf(list(monitoring.STATUS_LABELS)))
    rule = fields.String(validate=validate.Length(max=48))
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))
    page_size = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


class FlagSchema(Schema):
    flag_id = fields.Integer()
    rule = fields.String()
    rule_label = fields.String()
    period = fields.String()
    measured = fields.Integer()
    threshold = fields.Integer()
    unit = fields.String()
    details = fields.Dict()
    person = fields.Dict(allow_none=True, metadata={"description": "姓名与脱敏身份证号码"})
    institution = fields.Dict(allow_none=True)
    status = fields.String(metadata={"description": "open | confirmed | dismissed"})
    status_label = fields.String()
    detected_at = fields.DateTime()
    reviewed_by = fields.String(allow_none=True)
    reviewed_at = fields.DateTime(allow_none=True)
    review_comment = fields.String(allow_none=True)


class FlagPageSchema(Schema):
    items = fields.List(fields.Nested(FlagSchema))
    total = fields.Integer()
    page = fields.Integer()
    page_size = fields.Integer()


class FlagReviewSchema(Schema):
    outcome = fields.String(required=True, validate=validate.OneOf(monitoring.OUTCOMES))
    comment = fields.String(required=True, validate=validate.Length(min=1, max=1000))


class RuleSchema(Schema):
    code = fields.String()
    label = fields.String()
    description = fields.String()
    threshold = fields.Integer()
    unit = fields.String()
    enabled = fields.Boolean()


@blp.route("/flags")
class Flags(MethodView):
    decorators = [require_staff(*MONITORS)]

    @blp.arguments(FlagQuerySchema, location="query")
    @blp.response(200, FlagPageSchema)
    @blp.doc(security=[{"bearer": []}])
    def get(self, query):
        """Flags raised by the monitoring rules, newest first"""
        return monitoring.list_flags(status=query["status"], rule_code=query.get("rule"), page=query["page"],
                                     page_size=query["page_size"])


@blp.route("/flags/<int:flag_id>")
class Flag(MethodView):
    decorators = [require_staff(*MONITORS)]

    @blp.response(200, FlagSchema)
    @blp.doc(security=[{"bearer": []}])
    def get(self, flag_id):
        """One flag"""
        return monitoring.get_flag(flag_id)


@blp.route("/flags/<int:flag_id>/review")
class FlagReview(MethodView):
    decorators = [require_staff(*MONITORS)]

    @idempotent
    @blp.arguments(FlagReviewSchema)
    @blp.response(200, FlagSchema)
    @blp.doc(security=[{"bearer": []}])
    def post(self, body, flag_id):
        """Confirm or dismiss an open flag with a comment (audited; 409 when already reviewed)"""
        return monitoring.review(g.staff.id, flag_id, body["outcome"], body["comment"])


@blp.route("/rules")
class Rules(MethodView):
    decorators = [require_staff(*MONITORS)]

    @blp.response(200, RuleSchema(many=True))
    @blp.doc(security=[{"bearer": []}])
    def get(self):
        """The monitoring rules and their thresholds (kept as data)"""
        return [rule.__dict__ for rule in monitoring.rules()]
