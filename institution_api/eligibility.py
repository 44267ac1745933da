"""A person's eligibility and accumulators for an institution before it settles (the national 2001/5206 idea).

The name and ID number come back masked: the institution already holds the card it read, and needs no more.
"""

from flask import g
from flask.views import MethodView
from marshmallow import EXCLUDE, Schema, fields

from backend.services import benefits
from backend.services.benefits import local_today
from backend.services.settlement_requests import parse_date, parse_id_number
from institution_api.base import signed_blueprint

blp = signed_blueprint("institution_eligibility", __name__, url_prefix="/api/v1/institution",
                       description="参保人待遇资格与累计信息查询（签名请求）")


class EligibilityRequestSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    id_number = fields.String(metadata={"description": "参保人身份证号码", "x-required": True})
    date = fields.String(metadata={"description": "就诊日期 YYYY-MM-DD，缺省为今天"})


class AccumulatorBalanceSchema(Schema):
    allowed = fields.String()
    used = fields.String()
    remaining = fields.String()


class AccumulatorsSchema(Schema):
    year = fields.Integer()
    deductible = fields.Nested(AccumulatorBalanceSchema)
    general = fields.Nested(AccumulatorBalanceSchema)
    chronic = fields.Nested(AccumulatorBalanceSchema)
    combined = fields.Nested(AccumulatorBalanceSchema)


class BucketEligibilitySchema(Schema):
    eligible = fields.Boolean()
    reasons = fields.List(fields.String())
    fund_share = fields.String()


class EligiblePersonSchema(Schema):
    name = fields.String(metadata={"description": "姓名（脱敏）"})
    id_number_masked = fields.String(metadata={"description": "身份证号码（前 6 位与后 4 位）"})
    person_type = fields.String(metadata={"enum": ["employed", "retired", "flexible"]})
    region = fields.String(metadata={"enum": ["nx", "nm"]})
    status = fields.String(metadata={"enum": ["active", "arrears", "suspended", "terminated"]})


class DirectSettlementSchema(Schema):
    allowed = fields.Boolean(metadata={"description": "本机构可否为其直接结算"})
    reason = fields.String(allow_none=True, metadata={"description": "不可直接结算的原因代码"})


class EligibilitySchema(Schema):
    person = fields.Nested(EligiblePersonSchema)
    date = fields.String()
    policy_version = fields.String()
    in_region = fields.Boolean()
    offsite_registered = fields.Boolean()
    direct_settlement = fields.Nested(DirectSettlementSchema)
    in_hospital = fields.Boolean()
    chronic_qualifications = fields.List(fields.String())
    benefits = fields.Dict(keys=fields.String(), values=fields.Nested(BucketEligibilitySchema))
    accumulators = fields.Nested(AccumulatorsSchema)
    account_open = fields.Boolean()


@blp.route("/eligibility")
class Eligibility(MethodView):
    @blp.arguments(EligibilityRequestSchema)
    @blp.response(200, EligibilitySchema)
    @blp.doc(operationId="check_eligibility")
    def post(self, body):
        """Check a person's status, open benefits and year-to-date accumulators (masked)"""
        today = local_today()
        on_date = parse_date(body["date"], "date", today=today) if body.get("date") else today
        return benefits.eligibility(g.institution, parse_id_number(body.get("id_number")), on_date)
