"""The signed-in person's settlements: list, detail and the PDF statement (结算清单, NX §23)."""

from flask import Response, g, jsonify
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from backend.services import settlements, statements
from backend.web.auth import require_person
from backend.web.pagination import pagination_header
from backend.web.schemas.settlements import SettlementSchema

blp = Blueprint("settlements", __name__, url_prefix="/api/v1/settlements", description="结算记录与结算清单")


class ListQuerySchema(Schema):
    year = fields.Integer(validate=validate.Range(min=2000, max=2100))
    page = fields.Integer(load_default=1, validate=validate.Range(min=1))
    page_size = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))


class SettlementSummarySchema(Schema):
    setl_id = fields.String()
    source = fields.String()
    status = fields.String()
    visit_date = fields.String()
    institution_name = fields.String(allow_none=True)
    med_type = fields.String()
    medfee_sumamt = fields.String()
    inscp_scp_amt = fields.String()
    act_pay_dedc = fields.String()
    hifp_pay = fields.String()
    acct_pay = fields.String()
    acct_mulaid_pay = fields.String()
    psn_cash_pay = fields.String()


class SettlementPageSchema(Schema):
    items = fields.List(fields.Nested(SettlementSummarySchema))
    page = fields.Integer()
    page_size = fields.Integer()
    total = fields.Integer()
    year = fields.Integer(allow_none=True)


@blp.route("")
class Settlements(MethodView):
    decorators = [require_person]

    @blp.arguments(ListQuerySchema, location="query")
    @blp.response(200, SettlementPageSchema)
    @blp.doc(security=[{"bearer": []}])
    def get(self, query):
        """My settlements, newest first (filter by year, paginated)"""
        found = settlements.list_for_person(g.person_id, year=query.get("year"), page=query["page"],
                                            page_size=query["page_size"])
        return found, 200, pagination_header(found["total"], query["page"], query["page_size"])


@blp.route("/<string:setl_id>")
class SettlementDetail(MethodView):
    decorators = [require_person]

    @blp.response(200, SettlementSchema)
    @blp.doc(security=[{"bearer": []}])
    def get(self, setl_id):
        """One of my settlements with its lines, refunds and explanation"""
        return settlements.detail_for_person(g.person_id, setl_id)


@blp.route("/<string:setl_id>/statement.pdf")
class Statement(MethodView):
    decorators = [require_person]

    @blp.doc(security=[{"bearer": []}], responses={
        "200": {"description": "结算清单 PDF", "content": {"application/pdf": {}}},
        "202": {"description": "正在生成，请按 Retry-After 秒后重试"},
    })
    def get(self, setl_id):
        """The settlement statement as PDF (202 with Retry-After while it is being made)"""
        pdf, status = statements.statement_pdf(g.person_id, setl_id)
        if status == statements.PENDING:
            response = jsonify({"status": "pending", "retry_after": statements.RETRY_AFTER_SECONDS})
            response.status_code = 202
            response.headers["Retry-After"] = str(statements.RETRY_AFTER_SECONDS)
            return response
        return Response(pdf, mimetype="application/pdf", headers={
            "Content-Disposition": f'inline; filename="statement-{setl_id}.pdf"',
            "Cache-Control": "private, no-store",
        })
