"""Direct settlement and refunds for designated institutions (DESIGN §4.6, signed requests).

Amounts are yuan (numbers or strings with at most two decimals) in and yuan strings out, under the national
platform's 2207 names. ``order_no`` (the institution's own number) makes a settlement safe to post again: the
same body answers with the same settlement (200), another body is refused (409 ``order_no_reused``).
"""

from flask import g
from flask.views import MethodView
from marshmallow import EXCLUDE, Schema, fields

from backend.services import settlement_refunds, settlements
from backend.web.fields import WholeNumber
from backend.web.idempotency import idempotent
from backend.web.schemas.settlements import RefundSummarySchema, SettlementSchema
from institution_api.base import signed_blueprint

blp = signed_blueprint("institution_settlements", __name__, url_prefix="/api/v1/institution",
                       description="定点机构结算与退费（签名请求）")


class FeeItemSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    code = fields.String(metadata={"description": "机构项目编码", "x-required": True})
    name = fields.String(metadata={"description": "项目名称", "x-required": True})
    amount = fields.Raw(metadata={"description": "金额（元），数字或字符串，最多两位小数", "example": "1200.00",
                                  "x-required": True})
    in_scope = fields.Boolean(metadata={"description": "是否属于医保目录范围内", "x-required": True})
    account_eligible = fields.Boolean(load_default=True,
                                      metadata={"description": "机构标注个人账户可否支付"})
    use = fields.String(metadata={"description": "非医疗用途时填写：public_health（公共卫生）、fitness（体育健身）、"
                                                 "wellness（养生保健）——个人账户不得支付（NM §5）"})


class SettlementRequestSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    # "x-required": the service checks these itself, each refusal with its own reason code (no_lines, ...); the
    # OpenAPI document still lists them as required (backend.web.openapi).
    id_number = fields.String(metadata={"description": "参保人身份证号码", "x-required": True})
    visit_date = fields.String(metadata={"description": "就诊日期 YYYY-MM-DD", "example": "2024-05-10",
                                         "x-required": True})
    med_type = fields.String(metadata={"description": "general（普通门诊）| chronic（门诊慢特病）",
                                       "enum": ["general", "chronic"], "x-required": True})
    items = fields.List(fields.Nested(FeeItemSchema), metadata={"x-required": True, "minItems": 1})
    use_account = fields.Boolean(metadata={"description": "个人负担部分是否使用个人账户（含家庭共济）支付"})
    order_no = fields.String(metadata={"description": "机构结算单号（幂等：同号同内容返回同一结算）"})
    invoice_no = fields.String(metadata={"description": "发票号（同一发票不得重复结算或报销）"})
    disease_code = fields.String(metadata={"description": "门诊慢特病病种编码"})


class RefundRequestSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    refund_no = fields.String(metadata={"description": "机构退费单号（幂等）", "x-required": True})
    line_nos = fields.List(WholeNumber(), metadata={"description": "部分退费的明细序号（从 1 开始）；缺省为全部"})


class RefundSchema(RefundSummarySchema):
    setl_id = fields.String()
    status = fields.String()
    explanation = fields.List(fields.String())


@blp.route("/settlements")
class Settlements(MethodView):
    @idempotent
    @blp.arguments(SettlementRequestSchema)
    @blp.response(201, SettlementSchema)
    @blp.alt_response(200, schema=SettlementSchema, description="同一 order_no、相同内容再次提交：返回原结算")
    @blp.doc(operationId="settle_visit")
    def post(self, body):
        """Settle an outpatient visit: fund, own account, family sharing and cash parts"""
        view, created = settlements.settle_direct_outcome(g.institution, body)
        return view, 201 if created else 200


@blp.route("/settlements/<string:setl_id>/refund")
class SettlementRefundResource(MethodView):
    @idempotent
    @blp.arguments(RefundRequestSchema)
    @blp.response(201, RefundSchema)
    @blp.alt_response(200, schema=RefundSchema, description="同一 refund_no、相同内容再次提交：返回原退费")
    @blp.doc(operationId="refund_settlement")
    def post(self, body, setl_id):
        """Refund a settlement (wholly, or some lines) along the original channels"""
        view, created = settlement_refunds.refund_outcome(g.institution, setl_id, body)
        return view, 201 if created else 200
