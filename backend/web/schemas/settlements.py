"""A settlement under the national 2207 names, as institutions and insured people see it."""

from marshmallow import Schema, fields

from backend.web.schemas.policy import SampleSchema


class PersonMaskedSchema(Schema):
    name = fields.String()
    id_number_masked = fields.String()


class InstitutionRefSchema(Schema):
    code = fields.String(allow_none=True)
    name = fields.String(allow_none=True)
    level = fields.String(allow_none=True)


class AccountRefusalSchema(Schema):
    reason = fields.String(metadata={"description": "excluded_use | out_of_scope_not_payable | "
                                                    "institution_marked_ineligible"})
    message = fields.String()
    article = fields.String(metadata={"description": "所依据的政策条款"})


class SettledItemSchema(Schema):
    line_no = fields.Integer()
    code = fields.String()
    name = fields.String()
    amount = fields.String()
    in_scope = fields.Boolean()
    use = fields.String(allow_none=True, metadata={"description": "费用用途（public_health、fitness、wellness 等）"})
    account_eligible = fields.Boolean(metadata={"description": "个人账户可否支付（按所在地区政策）"})
    account_refusal = fields.Nested(AccountRefusalSchema, allow_none=True,
                                    metadata={"description": "个人账户不予支付的原因及政策条款"})


class RefundSummarySchema(Schema):
    refund_no = fields.String()
    line_nos = fields.List(fields.Integer())
    medfee_sumamt = fields.String()
    hifp_pay = fields.String()
    acct_pay = fields.String()
    acct_mulaid_pay = fields.String()
    psn_cash_pay = fields.String()
    balc = fields.String(allow_none=True)
    clearing_month = fields.String()
    refunded_at = fields.String()


class SettlementSchema(Schema):
    setl_id = fields.String()
    source = fields.String()
    status = fields.String()
    order_no = fields.String(allow_none=True)
    invoice_no = fields.String(allow_none=True)
    person = fields.Nested(PersonMaskedSchema)
    institution = fields.Nested(InstitutionRefSchema)
    visit_date = fields.String()
    med_type = fields.String()
    bucket = fields.String(allow_none=True)
    disease_code = fields.String(allow_none=True)
    in_region = fields.Boolean()
    policy_version = fields.String()
    benefit_year = fields.Integer()
    fund_share = fields.String()
    medfee_sumamt = fields.String(metadata={"description": "医疗费总额"})
    inscp_scp_amt = fields.String(metadata={"description": "符合政策范围金额"})
    act_pay_dedc = fields.String(metadata={"description": "本次起付线"})
    hifp_pay = fields.String(metadata={"description": "统筹基金支付"})
    acct_pay = fields.String(metadata={"description": "个人账户支付"})
    acct_mulaid_pay = fields.String(metadata={"description": "共济账户支付"})
    psn_cash_pay = fields.String(metadata={"description": "个人现金支付"})
    balc = fields.String(allow_none=True, metadata={"description": "本人个人账户余额"})
    items = fields.List(fields.Nested(SettledItemSchema))
    refunds = fields.List(fields.Nested(RefundSummarySchema))
    explanation = fields.List(fields.String())
    reasons = fields.List(fields.String())
    sample = fields.Nested(SampleSchema, metadata={"description": "是否按样例参数计算"})
    settled_at = fields.String()
    clearing_month = fields.String()
