"""Policy versions for administrators: list them, and add a version (never edit one in force; audited).

A version is the whole policy document of backend.domain.policy (see its docstring and backend/policies/*.json),
checked by ``Policy.from_document``. It must start after today and must not overlap another version of its
region, except that the region's open-ended version is closed at the new version's first day.
"""

from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import INCLUDE, Schema, fields, validate

from backend.models import PolicyVersion
from backend.services import policies
from backend.services.benefits import local_today
from backend.web.auth import require_staff
from backend.web.idempotency import idempotent

blp = Blueprint("staff_policies", __name__, url_prefix="/api/v1/staff/policies", description="政策版本管理")


class PolicyQuerySchema(Schema):
    region = fields.String(validate=validate.OneOf(sorted(policies.REGION_NAMES)))


class PolicyDocumentSchema(Schema):
    """The policy document as a whole; its fields are checked by Policy.from_document, all problems at once."""

    class Meta:
        unknown = INCLUDE


class PolicyVersionSchema(Schema):
    version = fields.String()
    region = fields.String()
    label = fields.String()
    valid_from = fields.String()
    valid_to = fields.String(allow_none=True)
    sample = fields.Boolean()
    created_by_staff_id = fields.Integer(allow_none=True)
    created_at = fields.String()
    in_force_today = fields.Boolean()


class PolicyVersionListSchema(Schema):
    items = fields.List(fields.Nested(PolicyVersionSchema))


def version_view(row: PolicyVersion) -> dict:
    return policies.version_summary(row, local_today())


@blp.route("")
class PolicyVersions(MethodView):
    @require_staff()
    @blp.arguments(PolicyQuerySchema, location="query")
    @blp.response(200, PolicyVersionListSchema)
    @blp.doc(security=[{"bearer": []}])
    def get(self, query):
        """Policy versions by region and validity"""
        return {"items": [version_view(row) for row in policies.list_versions(query.get("region"))]}

    @require_staff("admin")
    @idempotent
    @blp.arguments(PolicyDocumentSchema)
    @blp.response(201, PolicyVersionSchema)
    @blp.doc(security=[{"bearer": []}])
    def post(self, document):
        """Add a policy version starting after today (administrator; audited)"""
        row = policies.add_version(document, staff_id=g.staff.id, today=local_today())
        return version_view(row)
