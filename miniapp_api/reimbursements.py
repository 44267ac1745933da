"""Manual reimbursement (零星报销, NX §23) for the insured: file, upload materials, follow, supplement, withdraw."""

from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from backend.services import applications, reimbursements
from backend.web.auth import require_person
from backend.web.idempotency import idempotent
from backend.web.fields import YuanAmount
from backend.web.schemas.applications import ApplicationViewSchema, AttachmentSchema
from miniapp_api.applications import AttachmentFileSchema, supplement, upload, upload_doc

blp = Blueprint("reimbursements", __name__, url_prefix="/api/v1/reimbursements",
                description="零星报销：提交申请、上传发票和费用清单、查看审核进度与结算结果")
KIND = "reimbursement"


class InvoiceSchema(Schema):
    number = fields.String(required=True, validate=validate.Length(min=1, max=64))
    amount = YuanAmount(required=True, attribute="amount_fen")
    electronic = fields.Boolean(load_default=False, metadata={"description": "电子发票无需上传图片"})


class ItemSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    amount = YuanAmount(required=True, attribute="amount_fen")
    in_scope = fields.Boolean(load_default=True, metadata={"description": "是否属于医保目录范围"})


class PayeeSchema(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(sorted(reimbursements.PAYEE_LABELS)))
    card_number = fields.String(validate=validate.Length(max=32))
    bank_name = fields.String(validate=validate.Length(max=64))
    account_number = fields.String(validate=validate.Regexp(r"^\d{8,32}$", error="账号须为8–32位数字"))
    account_name = fields.String(validate=validate.Length(max=64))


class ReimbursementFields(Schema):
    visit_date = fields.Date(required=True)
    institution_name = fields.String(required=True, validate=validate.Length(min=1, max=128))
    hospital_level = fields.String(required=True, validate=validate.OneOf(["tertiary", "secondary", "primary"]))
    cross_province = fields.Boolean(load_default=False)
    self_paid_by_choice = fields.Boolean(load_default=False)
    med_type = fields.String(load_default="general", validate=validate.OneOf(["general", "chronic"]))
    # Not required here: their absence is the service's ``materials_incomplete``, with the list of what is missing.
    invoices = fields.List(fields.Nested(InvoiceSchema), load_default=list)
    items = fields.List(fields.Nested(ItemSchema), load_default=list)
    payee = fields.Nested(PayeeSchema, load_default=None, allow_none=True)


class ReimbursementSupplementSchema(Schema):
    """A comment, and optionally corrected fields (checked again like a new request)."""

    comment = fields.String(validate=validate.Length(max=500))
    visit_date = fields.Date()
    institution_name = fields.String(validate=validate.Length(min=1, max=128))
    hospital_level = fields.String(validate=validate.OneOf(["tertiary", "secondary", "primary"]))
    cross_province = fields.Boolean()
    self_paid_by_choice = fields.Boolean()
    med_type = fields.String(validate=validate.OneOf(["general", "chronic"]))
    invoices = fields.List(fields.Nested(InvoiceSchema))
    items = fields.List(fields.Nested(ItemSchema))
    payee = fields.Nested(PayeeSchema)


class ReimbursementAttachmentFormSchema(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(sorted(reimbursements.ATTACHMENT_KINDS)))


@blp.route("")
class Reimbursements(MethodView):
    decorators = [require_person]

    @blp.response(200, ApplicationViewSchema(many=True))
    @blp.doc(security=[{"bearer": []}])
    def get(self):
        """My manual reimbursements, newest first"""
        return applications.list_for_person(g.person_id, kind=KIND)

    @idempotent
    @blp.arguments(ReimbursementFields)
    @blp.response(201, ApplicationViewSchema)
    @blp.doc(security=[{"bearer": []}])
    def post(self, body):
        """File a manual reimbursement (then upload invoice images and the fee list)"""
        return reimbursements.submit(g.person_id, body)


@blp.route("/<application_id>")
class Reimbursement(MethodView):
    decorators = [require_person]

    @blp.response(200, ApplicationViewSchema)
    @blp.doc(security=[{"bearer": []}])
    def get(self, application_id):
        """Status, review steps so far, missing materials and — once approved — the settlement"""
        return applications.status_view(g.person_id, application_id, kind=KIND)


@blp.route("/<application_id>/attachments")
class ReimbursementAttachments(MethodView):
    decorators = [require_person]

    # No Idempotency-Key: a retried multipart body differs (new boundary); the service knows a retry by its hash.
    @blp.arguments(ReimbursementAttachmentFormSchema, location="form")
    @blp.arguments(AttachmentFileSchema, location="files")
    @blp.response(201, AttachmentSchema)
    @blp.doc(security=[{"bearer": []}], **upload_doc("invoice|fee_list|payee_card|other"))
    def post(self, form, files, application_id):
        """Upload an invoice image, the fee list, the payee's card or another file (multipart: kind, file)"""
        applications.ensure_visible(g.person_id, application_id, kind=KIND)
        return upload(g.person_id, application_id, form, files)


@blp.route("/<application_id>/supplement")
class ReimbursementSupplement(MethodView):
    decorators = [require_person]

    @idempotent
    @blp.arguments(ReimbursementSupplementSchema)
    @blp.response(200, ApplicationViewSchema)
    @blp.doc(security=[{"bearer": []}])
    def post(self, body, application_id):
        """Send a returned reimbursement back to first review, with corrections if any"""
        applications.ensure_visible(g.person_id, application_id, kind=KIND)
        return supplement(g.person_id, application_id, body)


@blp.route("/<application_id>/withdraw")
class ReimbursementWithdraw(MethodView):
    decorators = [require_person]

    @idempotent
    @blp.response(200, ApplicationViewSchema)
    @blp.doc(security=[{"bearer": []}])
    def post(self, application_id):
        """Withdraw before any decision"""
        applications.ensure_visible(g.person_id, application_id, kind=KIND)
        return applications.withdraw(g.person_id, application_id)
