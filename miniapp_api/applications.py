"""Applications of the insured: one-time payouts (NX §9), chronic cap adjustments (NX §17) and the generic
status / attachments / supplement / withdraw resources for every kind (manual reimbursements have their own
resources in ``miniapp_api.reimbursements``)."""

from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint
from flask_smorest.fields import Upload
from marshmallow import Schema, fields, validate

from backend.services import applications, chronic, payouts
from backend.web.auth import require_person
from backend.web.idempotency import idempotent
from backend.web.schemas.applications import (
    ApplicationViewSchema,
    AttachmentSchema,
    CapAdjustmentRequestSchema,
    InstitutionBriefSchema,
    QualificationSchema,
)

blp = Blueprint("insured_applications", __name__, url_prefix="/api/v1/applications",
                description="参保人的各类申请：状态、材料上传、补充材料、撤回")
payout_blp = Blueprint("payouts", __name__, url_prefix="/api/v1/payouts",
                       description="个人账户一次性返还申请（死亡、出国定居）")
chronic_blp = Blueprint("insured_chronic", __name__, url_prefix="/api/v1/chronic",
                        description="门诊慢特病：认定医院、资格、支付限额调整申请")


# --- shared schemas -------------------------------------------------------------------------------------------------
def upload_doc(kinds: str) -> dict:
    """The multipart body as one schema in the OpenAPI document (it is parsed from two locations)."""
    return {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
        "type": "object", "required": ["kind", "file"],
        "properties": {"kind": {"type": "string", "description": kinds},
                       "file": {"type": "string", "format": "binary", "description": "JPG、PNG 或 PDF"}},
    }}}}}


class AttachmentFormSchema(Schema):
    kind = fields.String(required=True, validate=validate.Length(min=1, max=32))


class AttachmentFileSchema(Schema):
    file = Upload(required=True, metadata={"description": "JPG、PNG 或 PDF"})


class BankAccountSchema(Schema):
    bank_name = fields.String(required=True, validate=validate.Length(min=1, max=64))
    account_number = fields.String(required=True, validate=validate.Regexp(r"^\d{8,32}$", error="账号须为8–32位数字"))
    account_name = fields.String(required=True, validate=validate.Length(min=1, max=64))


class SupplementSchema(Schema):
    comment = fields.String(validate=validate.Length(max=500))
    bank_account = fields.Nested(BankAccountSchema)  # a payout's corrected account


def upload(person_id, application_id, form, files):
    storage = files["file"]
    return applications.add_attachment(person_id, application_id, form["kind"], storage.filename or "",
                                       storage.read())


def supplement(person_id, application_id, body):
    comment = body.pop("comment", None)
    return applications.supplement(person_id, application_id, comment, body or None)


# --- every kind ---------------------------------------------------------------------------------------------------
@blp.route("")
class Applications(MethodView):
    decorators = [require_person]

    @blp.response(200, ApplicationViewSchema(many=True))
    @blp.doc(security=[{"bearer": []}])
    def get(self):
        """My applications (filed by me or about me), newest first"""
        return applications.list_for_person(g.person_id)


@blp.route("/<application_id>")
class ApplicationStatus(MethodView):
    decorators = [require_person]

    @blp.response(200, ApplicationViewSchema)
    @blp.doc(security=[{"bearer": []}])
    def get(self, application_id):
        """Status, review steps so far, missing materials and outcome"""
        return applications.status_view(g.person_id, application_id)


@blp.route("/<application_id>/attachments")
class ApplicationAttachments(MethodView):
    decorators = [require_person]

    # No Idempotency-Key: a retried multipart body differs (new boundary); the service knows a retry by its hash.
    @blp.arguments(AttachmentFormSchema, location="form")
    @blp.arguments(AttachmentFileSchema, location="files")
    @blp.response(201, AttachmentSchema)
    @blp.doc(security=[{"bearer": []}], **upload_doc(
        "invoice|fee_list|payee_card|other（报销）；certificate|promise|reduction_form|applicant_id|bank_card|other"
        "（一次性返还）；medical_record|other（限额调整）"))
    def post(self, form, files, application_id):
        """Upload one file (multipart: kind, file)"""
        return upload(g.person_id, application_id, form, files)


@blp.route("/<application_id>/supplement")
class ApplicationSupplement(MethodView):
    decorators = [require_person]

    @idempotent
    @blp.arguments(SupplementSchema)
    @blp.response(200, ApplicationViewSchema)
    @blp.doc(security=[{"bearer": []}])
    def post(self, body, application_id):
        """Send a returned application back to review (after uploading what was asked for)"""
        return supplement(g.person_id, application_id, body)


@blp.route("/<application_id>/withdraw")
class ApplicationWithdraw(MethodView):
    decorators = [require_person]

    @idempotent
    @blp.response(200, ApplicationViewSchema)
    @blp.doc(security=[{"bearer": []}])
    def post(self, application_id):
        """Withdraw an application nobody has decided on yet"""
        return applications.withdraw(g.person_id, application_id)


# --- one-time payout (NX §9) --------------------------------------------------------------------------------------
class PersonRefSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=64))
    id_number = fields.String(required=True, validate=validate.Length(min=15, max=18))


class PayoutRequestSchema(Schema):
    person = fields.Nested(PersonRefSchema, metadata={"description": "参保人（死亡时由继承人申请）；缺省为本人"})
    reason = fields.String(required=True, validate=validate.OneOf(sorted(payouts.REASONS)))
    disposition = fields.String(required=True, validate=validate.OneOf(sorted(payouts.DISPOSITIONS)))
    applicant_relation = fields.String(validate=validate.OneOf(sorted(payouts.RELATIONS)))
    bank_account = fields.Nested(BankAccountSchema, allow_none=True, metadata={"description": "一次性返还时必填"})


@payout_blp.route("")
class Payouts(MethodView):
    decorators = [require_person]

    @payout_blp.response(200, ApplicationViewSchema(many=True))
    @payout_blp.doc(security=[{"bearer": []}])
    def get(self):
        """My payout applications"""
        return applications.list_for_person(g.person_id, kind="payout")

    @idempotent
    @payout_blp.arguments(PayoutRequestSchema)
    @payout_blp.response(201, ApplicationViewSchema)
    @payout_blp.doc(security=[{"bearer": []}])
    def post(self, body):
        """Apply for the one-time payout (or continued use) of an individual account"""
        return payouts.submit(g.person_id, body)


# --- chronic diseases (NX §15–§17) ----------------------------------------------------------------------------------
class CertifierQuerySchema(Schema):
    region = fields.String(validate=validate.OneOf(["nx", "nm"]))


@chronic_blp.route("/qualifications")
class Qualifications(MethodView):
    decorators = [require_person]

    @chronic_blp.response(200, QualificationSchema(many=True))
    @chronic_blp.doc(security=[{"bearer": []}])
    def get(self):
        """My chronic-disease qualifications and approved cap adjustments"""
        return chronic.qualifications_for(g.person_id)


@chronic_blp.route("/certifiers")
class Certifiers(MethodView):
    @chronic_blp.arguments(CertifierQuerySchema, location="query")
    @chronic_blp.response(200, InstitutionBriefSchema(many=True))
    def get(self, args):
        """The certifying hospitals (认定医院), recognised region-wide"""
        return chronic.certifiers(args.get("region"))


@chronic_blp.route("/cap-adjustments")
class CapAdjustments(MethodView):
    decorators = [require_person]

    @idempotent
    @chronic_blp.arguments(CapAdjustmentRequestSchema)
    @chronic_blp.response(201, ApplicationViewSchema)
    @chronic_blp.doc(security=[{"bearer": []}])
    def post(self, body):
        """Ask the agency to raise a chronic cap (people living out of province; others apply at a hospital)"""
        return chronic.file_online(g.person_id, body)
