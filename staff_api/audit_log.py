"""The audit log, for administrators: who did what to which object and when, reads of personal data included."""

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from backend.services import audit
from backend.web.auth import require_staff

blp = Blueprint("staff_audit_log", __name__, url_prefix="/api/v1/staff/audit-log", description="审计日志（管理员）")


class AuditQuerySchema(Schema):
    actor = fields.String(validate=validate.Length(max=64), metadata={"description": "操作人用户名（或操作方编号）"})
    group = fields.String(validate=validate.OneOf(list(audit.ACTION_GROUPS)), metadata={
        "description": "操作类别：" + "、".join(f"{k}（{label}）" for k, (label, _) in audit.ACTION_GROUPS.items())})
    action = fields.String(validate=validate.Length(max=64),
                           metadata={"description": "操作代码；以“.”结尾时按前缀匹配，如 read."})
    object_type = fields.String(validate=validate.Length(max=32))
    object_id = fields.String(validate=validate.Length(max=64))
    since = fields.AwareDateTime(default_timezone=None, metadata={"description": "起（含），带时区的 ISO 8601 时间"})
    until = fields.AwareDateTime(default_timezone=None, metadata={"description": "止（不含）"})
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))
    page_size = fields.Integer(load_default=50, validate=validate.Range(min=1, max=audit.MAX_PAGE_SIZE))


class AuditEntrySchema(Schema):
    id = fields.Integer()
    created_at = fields.DateTime()
    actor_kind = fields.String()
    actor_id = fields.String()
    actor = fields.String(metadata={"description": "工作人员为用户名"})
    action = fields.String()
    object_type = fields.String()
    object_id = fields.String()
    details = fields.Dict()


class AuditPageSchema(Schema):
    items = fields.List(fields.Nested(AuditEntrySchema))
    total = fields.Integer()
    page = fields.Integer()
    page_size = fields.Integer()


@blp.route("")
class AuditLog(MethodView):
    decorators = [require_staff("admin")]

    @blp.arguments(AuditQuerySchema, location="query")
    @blp.response(200, AuditPageSchema)
    @blp.doc(security=[{"bearer": []}])
    def get(self, query):
        """Audit entries, newest first, filtered by who, what, which object and when"""
        return audit.search(**query)
