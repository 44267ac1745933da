"""Admissions and discharges posted by institutions: general outpatient pooling pauses in hospital (NM §12)."""

from flask import g
from flask.views import MethodView
from marshmallow import EXCLUDE, Schema, fields

from backend.services import hospital_stays
from backend.web.idempotency import idempotent
from institution_api.base import signed_blueprint

blp = signed_blueprint("institution_admissions", __name__, url_prefix="/api/v1/institution",
                       description="入院与出院登记（签名请求）")


class AdmissionRequestSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    id_number = fields.String(metadata={"description": "参保人身份证号码", "x-required": True})
    admission_no = fields.String(metadata={"description": "机构住院号", "x-required": True})
    admitted_on = fields.String(metadata={"description": "入院日期 YYYY-MM-DD", "x-required": True})


class DischargeRequestSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    discharged_on = fields.String(metadata={"description": "出院日期 YYYY-MM-DD", "x-required": True})


class StaySchema(Schema):
    admission_no = fields.String()
    status = fields.String()
    admitted_on = fields.String()
    discharged_on = fields.String(allow_none=True)
    person = fields.Dict()


@blp.route("/admissions")
class Admissions(MethodView):
    @idempotent
    @blp.arguments(AdmissionRequestSchema)
    @blp.response(201, StaySchema)
    @blp.alt_response(200, schema=StaySchema, description="同一住院号、相同内容再次提交：返回原登记")
    def post(self, body):
        """Record an admission (the same admission number and data again answers the same)"""
        view, created = hospital_stays.admit(g.institution, body)
        return view, 201 if created else 200


@blp.route("/admissions/<string:admission_no>/discharge")
class Discharge(MethodView):
    @idempotent
    @blp.arguments(DischargeRequestSchema)
    @blp.response(200, StaySchema)
    def post(self, body, admission_no):
        """Record the discharge day of an admission"""
        return hospital_stays.discharge(g.institution, admission_no, body)
