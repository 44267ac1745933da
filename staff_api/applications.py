"""Staff review of applications: queues per role, claim, decide (初审 → 复审 → 审签), the case with its history."""

from flask import g, send_file
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from backend.domain.review import REASON_CODES, Decision
from backend.services import applications, chronic, review_desk
from backend.web.auth import require_staff
from backend.web.idempotency import idempotent
from backend.web.schemas.applications import ApplicationViewSchema, CapAdjustmentRequestSchema, StepRecordSchema

blp = Blueprint("staff_applications", __name__, url_prefix="/api/v1/staff/applications",
                description="经办审核：工作队列、领取、审核决定、办理记录")
chronic_blp = Blueprint("staff_chronic", __name__, url_prefix="/api/v1/staff/chronic",
                        description="经办机构受理门诊慢特病支付限额调整（异地备案人员）")

REVIEWERS = ("first_reviewer", "second_reviewer", "leader")
VIEWERS = (*REVIEWERS, "admin")


class QueueArgsSchema(Schema):
    queue = fields.String(load_default="step", validate=validate.OneOf(applications.QUEUES), metadata={
        "description": "step: 待本人岗位办理的申请；mine: 本人已领取未办结的申请"})
    kind = fields.String(validate=validate.OneOf(["reimbursement", "payout", "chronic_cap_adjust"]))
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=500))


class PersonBriefSchema(Schema):
    name = fields.String()
    id_number_masked = fields.String()
    region = fields.String()
    person_type = fields.String()
    status = fields.String()
    living_out_of_province = fields.Boolean()


class StaffApplicationViewSchema(ApplicationViewSchema):
    person_name = fields.String()
    person_id_number_masked = fields.String()
    step_entered_at = fields.DateTime()
    seconds_in_current_step = fields.Integer()
    claimed_by = fields.String(allow_none=True)
    person = fields.Nested(PersonBriefSchema)
    applicant = fields.Nested(PersonBriefSchema, allow_none=True)
    history = fields.List(fields.Nested(StepRecordSchema))
    settlement_preview = fields.Raw(metadata={"description": "审签前：按当前累计额试算的结果（不写入）"})
    invoices_already_used = fields.List(fields.String())
    account = fields.Dict(allow_none=True)


class DecisionSchema(Schema):
    decision = fields.String(required=True, validate=validate.OneOf([str(d) for d in Decision]))
    comment = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=1000))
    reason_code = fields.String(load_default=None, allow_none=True, metadata={
        "description": "驳回时必填：" + "、".join(f"{code}（{label}）" for code, label in REASON_CODES.items())})
    requested_materials = fields.List(
        fields.String(validate=validate.Length(min=1, max=32)), load_default=None, allow_none=True,
        validate=validate.Length(max=10),
        metadata={"description": "退回时：申请人须补充上传的材料类型（如 invoice、fee_list），补齐后才能重新提交"})


class StaffCapAdjustmentSchema(CapAdjustmentRequestSchema):
    id_number = fields.String(required=True, validate=validate.Length(min=15, max=18))


@blp.route("")
class Queue(MethodView):
    decorators = [require_staff(*VIEWERS)]

    @blp.arguments(QueueArgsSchema, location="query")
    @blp.response(200, StaffApplicationViewSchema(many=True))
    @blp.doc(security=[{"bearer": []}])
    def get(self, args):
        """My work queue: the step my roles decide, or what I have claimed"""
        return applications.queue(g.staff, args["queue"], kind=args.get("kind"), limit=args["limit"])


@blp.route("/<application_id>")
class Case(MethodView):
    decorators = [require_staff(*VIEWERS)]

    @blp.response(200, StaffApplicationViewSchema)
    @blp.doc(security=[{"bearer": []}])
    def get(self, application_id):
        """The case: materials, history with time in each step, and the settlement preview before sign-off (audited)"""
        return review_desk.open_case(g.staff, application_id)


@blp.route("/<application_id>/claim")
class Claim(MethodView):
    decorators = [require_staff(*REVIEWERS)]

    @idempotent
    @blp.response(200, StaffApplicationViewSchema)
    @blp.doc(security=[{"bearer": []}])
    def post(self, application_id):
        """Claim the application for its current step"""
        return applications.claim(application_id, g.staff)


@blp.route("/<application_id>/release")
class Release(MethodView):
    decorators = [require_staff(*VIEWERS)]

    @idempotent
    @blp.response(200, StaffApplicationViewSchema)
    @blp.doc(security=[{"bearer": []}])
    def post(self, application_id):
        """Give a claimed application back to the step's queue"""
        return applications.release(application_id, g.staff)


@blp.route("/<application_id>/decisions")
class Decisions(MethodView):
    decorators = [require_staff(*REVIEWERS)]

    @idempotent
    @blp.arguments(DecisionSchema)
    @blp.response(200, StaffApplicationViewSchema)
    @blp.doc(security=[{"bearer": []}])
    def post(self, body, application_id):
        """Decide the current step: approve, reject (reason code + comment) or return for more material"""
        return applications.decide(application_id, g.staff, body["decision"], body["comment"], body["reason_code"],
                                   body["requested_materials"])


@blp.route("/<application_id>/attachments/<int:attachment_id>")
class AttachmentFile(MethodView):
    decorators = [require_staff(*VIEWERS)]

    @blp.response(200, content_type="application/octet-stream")
    @blp.doc(security=[{"bearer": []}])
    def get(self, application_id, attachment_id):
        """Download one uploaded file (audited)"""
        attachment, path = review_desk.attachment(g.staff, application_id, attachment_id)
        return send_file(path, mimetype=attachment.content_type, download_name=attachment.filename)


@chronic_blp.route("/cap-adjustments")
class CounterCapAdjustments(MethodView):
    decorators = [require_staff("agent")]

    @idempotent
    @chronic_blp.arguments(StaffCapAdjustmentSchema)
    @chronic_blp.response(201, ApplicationViewSchema)
    @chronic_blp.doc(security=[{"bearer": []}])
    def post(self, body):
        """Register the cap-adjustment request of a person living out of province (at the counter)"""
        return chronic.file_by_agency(g.staff, body)
