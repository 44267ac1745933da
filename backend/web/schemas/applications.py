"""How an application, its review steps and chronic-disease records look to callers of every surface."""

from marshmallow import Schema, fields, validate

from backend.web.fields import YuanAmount


class StepRefSchema(Schema):
    name = fields.String()
    label = fields.String()


class MissingMaterialSchema(Schema):
    kind = fields.String()
    label = fields.String()
    missing = fields.Integer()


class StepRecordSchema(Schema):
    step = fields.String()
    step_label = fields.String()
    decision = fields.String()
    reason_code = fields.String(allow_none=True)
    reason_label = fields.String(allow_none=True)
    comment = fields.String(allow_none=True)
    entered_at = fields.DateTime()
    decided_at = fields.DateTime()
    seconds_in_step = fields.Integer()
    staff = fields.String()  # staff views only
    staff_name = fields.String()


class AttachmentSchema(Schema):
    id = fields.Integer()
    kind = fields.String()
    filename = fields.String()
    content_type = fields.String()
    size_bytes = fields.Integer()
    uploaded_at = fields.DateTime()


class InstitutionBriefSchema(Schema):
    code = fields.String()
    name = fields.String()
    region = fields.String()
    level = fields.String()
    grade = fields.String(allow_none=True)


class ApplicationViewSchema(Schema):
    """Every kind of application; the fields of the other kinds are simply absent."""

    def get_attribute(self, obj, attr, default):
        # Views are dicts: a missing key is absent, never a dict method of the same name ("items").
        return obj.get(attr, default) if isinstance(obj, dict) else super().get_attribute(obj, attr, default)

    application_id = fields.String()
    kind = fields.String()
    kind_label = fields.String()
    status = fields.String(metadata={"description": "submitted|in_review|approved|paid|rejected|returned|withdrawn"})
    status_label = fields.String()
    current_step = fields.Nested(StepRefSchema, allow_none=True)
    submitted_at = fields.DateTime()
    updated_at = fields.DateTime()
    missing_materials = fields.List(fields.Nested(MissingMaterialSchema), metadata={
        "description": "材料齐全前申请不进入初审队列"})
    steps = fields.List(fields.Nested(StepRecordSchema))
    attachments = fields.List(fields.Nested(AttachmentSchema))
    # manual reimbursement
    visit = fields.Dict()
    invoices = fields.List(fields.Dict())
    items = fields.List(fields.Dict())
    claimed_amount = fields.String()
    payee = fields.Dict()
    settlement = fields.Raw(allow_none=True, metadata={"description": "审签后的结算结果（2207 字段）"})
    statement_url = fields.String(allow_none=True)
    paid_at = fields.String(allow_none=True)
    # one-time payout
    reason = fields.String()
    reason_label = fields.String()
    disposition = fields.String()
    disposition_label = fields.String()
    applicant_relation = fields.String()
    bank_account = fields.Dict(allow_none=True)
    payout_amount = fields.String(allow_none=True)
    # chronic cap adjustment
    disease_code = fields.String()
    disease_name = fields.String()
    cap_increase = fields.String()
    channel = fields.String()
    filed_at = fields.Dict()


class QualificationSchema(Schema):
    qualification_id = fields.Integer()
    disease_code = fields.String()
    disease_name = fields.String()
    certified_by = fields.Nested(InstitutionBriefSchema, allow_none=True)
    valid_from = fields.Date()
    valid_to = fields.Date(allow_none=True)
    status = fields.String()
    cap_adjustment = fields.String(metadata={"description": "已批准的年度支付限额上调额（元）"})


class CapAdjustmentRequestSchema(Schema):
    disease_code = fields.String(required=True, validate=validate.Length(min=1, max=32))
    cap_increase = YuanAmount(required=True, attribute="cap_increase_fen",
                              metadata={"description": "申请上调的年度支付限额（元）"})
    reason = fields.String(load_default="", validate=validate.Length(max=500))
