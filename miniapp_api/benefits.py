"""Benefits for the signed-in person: this year's caps and what a visit would be paid (DESIGN §4.8)."""

from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import EXCLUDE, Schema, fields, validate

from backend.services import benefits
from backend.services.benefits import local_today
from backend.services.settlement_requests import parse_date, parse_yuan
from backend.web.auth import require_person
from backend.web.schemas.policy import SampleSchema

blp = Blueprint("benefits", __name__, url_prefix="/api/v1/benefits", description="待遇：年度限额与报销估算")


class CapsQuerySchema(Schema):
    year = fields.Integer(validate=validate.Range(min=2000, max=2100))


class BalanceSchema(Schema):
    allowed = fields.String(metadata={"example": "4000.00"})
    used = fields.String()
    remaining = fields.String(metadata={"description": "现在还能支付的金额：暂停或不能享受时为 0.00"})
    available = fields.Boolean(metadata={"description": "现在能否享受（如门诊慢特病与普通门诊统筹不同时享受，NM §11）"})
    reasons = fields.List(fields.String(), metadata={"description": "不能享受的原因代码"})
    note = fields.String(allow_none=True, metadata={"description": "原因说明（中文）"})
    sample = fields.Boolean(metadata={"description": "该额度是否为样例参数"})


class CapsSchema(Schema):
    year = fields.Integer()
    policy_version = fields.String()
    person_type = fields.String()
    deductible = fields.Nested(BalanceSchema, metadata={"description": "起付线"})
    general = fields.Nested(BalanceSchema, metadata={"description": "普通门诊统筹年度限额"})
    chronic = fields.Nested(BalanceSchema, metadata={"description": "门诊慢特病年度限额"})
    combined = fields.Nested(BalanceSchema, metadata={"description": "统筹基金年度最高支付限额"})
    sample = fields.Nested(SampleSchema)


class EstimateRequestSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    amount = fields.Raw(required=True, metadata={"description": "政策范围内费用（元）", "example": "3000"})
    hospital_level = fields.String(required=True, metadata={"description": "tertiary | secondary | primary"})
    date = fields.String(metadata={"description": "就诊日期 YYYY-MM-DD，缺省为今天"})


class EstimateSchema(Schema):
    estimate = fields.Boolean()
    date = fields.String()
    hospital_level = fields.String()
    medfee_sumamt = fields.String()
    inscp_scp_amt = fields.String()
    act_pay_dedc = fields.String()
    hifp_pay = fields.String()
    acct_pay = fields.String()
    acct_mulaid_pay = fields.String()
    psn_cash_pay = fields.String()
    balc = fields.String()
    policy_version = fields.String()
    benefit_year = fields.Integer()
    bucket = fields.String()
    fund_share = fields.String()
    explanation = fields.List(fields.String())
    reasons = fields.List(fields.String())
    sample = fields.Nested(SampleSchema)


@blp.route("/caps")
class Caps(MethodView):
    decorators = [require_person]

    @blp.arguments(CapsQuerySchema, location="query")
    @blp.response(200, CapsSchema)
    @blp.doc(security=[{"bearer": []}])
    def get(self, query):
        """This year's deductible and caps: allowed, used and remaining"""
        return benefits.caps(g.person_id, query.get("year") or local_today().year)


@blp.route("/estimate")
class Estimate(MethodView):
    decorators = [require_person]

    @blp.arguments(EstimateRequestSchema)
    @blp.response(200, EstimateSchema)
    @blp.doc(security=[{"bearer": []}])
    def post(self, body):
        """What the fund would pay now for an amount at a hospital level (writes nothing)"""
        today = local_today()
        on_date = parse_date(body["date"], "date", today=today) if body.get("date") else today
        return benefits.estimate(g.person_id, parse_yuan(body["amount"], "amount"), body["hospital_level"], on_date)
