"""The signed-in person's individual account: balance and this year's totals, the journal, contributions."""

from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from backend.domain.ledger import PostingKind
from backend.services import accounts
from backend.services.credits import local_today
from backend.web.auth import require_person
from backend.web.idempotency import idempotent
from backend.web.fields import WholeNumber, YuanAmount
from backend.web.schemas.policy import SampleSchema

blp = Blueprint("account", __name__, url_prefix="/api/v1/account", description="个人账户：余额、明细、代缴")

YEARS = validate.Range(min=2000, max=2100)


class SummaryQuerySchema(Schema):
    year = fields.Integer(validate=YEARS, metadata={"description": "默认今年"})


class AccountSchema(Schema):
    balance = fields.String(metadata={"description": "余额（元），如 \"1200.00\""})
    status = fields.String(metadata={"description": "open | closed"})
    year = fields.Integer()
    credits = fields.String(metadata={"description": "本年划入（元）"})
    spending = fields.String(metadata={"description": "本年支出（元，扣除退费）"})
    spending_for_family = fields.String(metadata={"description": "其中家庭成员共济使用（元）"})
    closed_reason = fields.String(allow_none=True)
    credits_sample = fields.Nested(SampleSchema, metadata={"description": "划入金额是否按样例参数计算"})


class EntriesQuerySchema(Schema):
    year = fields.Integer(validate=YEARS)
    kind = fields.String(validate=validate.OneOf([str(kind) for kind in PostingKind]))


class WhoSchema(Schema):
    name = fields.String(allow_none=True)
    relation = fields.String(allow_none=True, metadata={"description": "self，或授权关系"})
    relation_label = fields.String()


class PlaceSchema(Schema):
    code = fields.String()
    name = fields.String()


class BeneficiarySchema(Schema):
    self_ = fields.Boolean(data_key="self", attribute="self")
    relation = fields.String(metadata={"description": "self，或与缴费人的关系"})
    relation_label = fields.String()
    name = fields.String()
    id_number_masked = fields.String(allow_none=True)


class EntrySchema(Schema):
    entry_id = fields.Integer()
    occurred_at = fields.DateTime()
    kind = fields.String()
    kind_label = fields.String()
    direction = fields.String(metadata={"description": "in | out"})
    amount = fields.String()
    memo = fields.String()
    settlement_id = fields.String(allow_none=True)
    by = fields.Nested(WhoSchema, allow_none=True, metadata={"description": "谁使用的：本人或被授权的家庭成员"})
    institution = fields.Nested(PlaceSchema, allow_none=True, metadata={"description": "在哪里使用"})
    paid_for = fields.Nested(BeneficiarySchema, allow_none=True,
                             metadata={"description": "代缴的居民医保、长护险缴费为谁缴纳"})


class ContributionRequestSchema(Schema):
    kind = fields.String(required=True, validate=validate.Length(min=1, max=48),
                         metadata={"description": "resident_insurance（家庭成员居民医保）| long_term_care（长护险）"})
    amount = YuanAmount(required=True, metadata={"type": "string", "example": "380.00",
                                                  "description": "元（字符串或数字，最多两位小数）"})
    relation = fields.String(validate=validate.Length(min=1, max=32),
                             metadata={"description": "与该家庭成员的关系（同授权）：spouse | father | mother | son | "
                                                      "daughter；填写家庭成员时必填"})
    relative_name = fields.String(validate=validate.Length(min=1, max=64),
                                  metadata={"description": "家庭成员姓名；填写家庭成员时必填"})
    relative_id_number = fields.String(validate=validate.Length(min=1, max=32),
                                       metadata={"description": "居民医保必填；长护险不填即为本人"})
    year = WholeNumber(validate=YEARS, metadata={"description": "缴费年度，默认今年"})


class ContributionSchema(Schema):
    kind = fields.String()
    year = fields.Integer()
    amount = fields.String()
    beneficiary = fields.Nested(BeneficiarySchema)
    balance = fields.String()
    occurred_at = fields.DateTime()


@blp.route("")
class Account(MethodView):
    decorators = [require_person]

    @blp.arguments(SummaryQuerySchema, location="query")
    @blp.response(200, AccountSchema)
    @blp.doc(security=[{"bearer": []}])
    def get(self, query):
        """My balance, and this year's credits and spending"""
        return accounts.summary(g.person_id, query.get("year") or local_today().year)


@blp.route("/entries")
class Entries(MethodView):
    decorators = [require_person]

    @blp.arguments(EntriesQuerySchema, location="query")
    @blp.response(200, EntrySchema(many=True))
    @blp.paginate()
    @blp.doc(security=[{"bearer": []}])
    def get(self, query, pagination_parameters):
        """My account journal, newest first: who spent it and where (filter by year and kind; paginated)"""
        items, total = accounts.entries(g.person_id, year=query.get("year"), kind=query.get("kind"),
                                        page=pagination_parameters.page,
                                        page_size=pagination_parameters.page_size)
        pagination_parameters.item_count = total
        return items


@blp.route("/contributions")
class Contributions(MethodView):
    decorators = [require_person]

    @idempotent
    @blp.arguments(ContributionRequestSchema)
    @blp.response(201, ContributionSchema)
    @blp.doc(security=[{"bearer": []}])
    def post(self, body):
        """Pay a spouse's, parent's or child's 居民医保, or a 长护险 contribution, from my account (NM §4, NX §31)"""
        return accounts.pay_contribution(g.person_id, kind=body["kind"], amount_fen=body["amount"],
                                         relation=body.get("relation"), relative_name=body.get("relative_name"),
                                         relative_id_number=body.get("relative_id_number"), year=body.get("year"))
