"""Monthly clearing with institutions (NX §10, §29): the report, its CSV for finance, and freezing a month.

Role: ``admin``. The staff roles are the review chain, service agents and administrators; there is no finance
role, and clearing decides what the agency pays each institution, so it is kept to administrators. Freezing is
audited under the administrator's id.
"""

from flask import Response, g
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import EXCLUDE, Schema, fields

from backend.domain.money import fen_to_yuan
from backend.services import clearing
from backend.web.auth import require_staff
from backend.web.idempotency import idempotent

blp = Blueprint("staff_clearing", __name__, url_prefix="/api/v1/staff/clearing", description="定点机构月度清算")


class ClearingQuerySchema(Schema):
    month = fields.String(required=True, metadata={"description": "YYYY-MM", "example": "2024-03"})
    institution = fields.String(metadata={"description": "机构编码，缺省为全部"})


class FreezeSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    month = fields.String(required=True, metadata={"description": "已结束的月份 YYYY-MM"})
    institution = fields.String(metadata={"description": "机构编码，缺省为全部"})


class YuanTotals(fields.Field):
    """The month's totals as every other response shows money: yuan strings; the counts stay numbers."""

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None:
            return None
        return {name: amount if name in clearing.COUNT_COLUMNS else fen_to_yuan(amount)
                for name, amount in value.items()}


class ClearingReportSchema(Schema):
    month = fields.String()
    institution_code = fields.String()
    institution_name = fields.String()
    status = fields.String(metadata={"description": "open | frozen"})
    frozen_at = fields.String(allow_none=True)
    totals = YuanTotals(metadata={"type": "object", "description": "金额为元（字符串，两位小数）；settlements、refunds 为笔数"})
    checks = fields.List(fields.Dict())
    reconciled = fields.Boolean()


class ClearingSchema(Schema):
    month = fields.String()
    institutions = fields.List(fields.Nested(ClearingReportSchema))


@blp.route("")
class Clearing(MethodView):
    decorators = [require_staff("admin")]

    @blp.arguments(ClearingQuerySchema, location="query")
    @blp.response(200, ClearingSchema)
    @blp.doc(security=[{"bearer": []}])
    def get(self, query):
        """The month's clearing per institution, reconciled against settlements and the account journal"""
        return {"month": query["month"], "institutions": clearing.reports(query["month"], query.get("institution"))}


@blp.route("/export.csv")
class ClearingCsv(MethodView):
    decorators = [require_staff("admin")]

    @blp.arguments(ClearingQuerySchema, location="query")
    @blp.doc(security=[{"bearer": []}], responses={"200": {"content": {"text/csv": {}}}})
    def get(self, query):
        """The month's clearing as CSV (amounts in yuan) for finance"""
        text = clearing.csv_text(clearing.reports(query["month"], query.get("institution")))
        filename = f"clearing-{query['month']}{'-' + query['institution'] if query.get('institution') else ''}.csv"
        # A byte-order mark so that spreadsheet programs read the Chinese names as UTF-8.
        return Response("\ufeff" + text, mimetype="text/csv", headers={
            "Content-Disposition": f'attachment; filename="{filename}"'})


@blp.route("/freeze")
class ClearingFreeze(MethodView):
    decorators = [require_staff("admin")]

    @idempotent
    @blp.arguments(FreezeSchema)
    @blp.response(200, ClearingSchema)
    @blp.doc(security=[{"bearer": []}])
    def post(self, body):
        """Clear and freeze an ended month (audited); later refunds land in a later month"""
        frozen = clearing.freeze(body["month"], body.get("institution"), actor_kind="staff", actor_id=g.staff.id)
        return {"month": body["month"], "institutions": frozen}
