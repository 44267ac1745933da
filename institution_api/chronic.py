"""Chronic diseases at designated hospitals: certifying hospitals post qualifications (NX §15–§16); hospitals of
二级甲等 or above register cap-adjustment requests for the agency to review (NX §17)."""

from flask import g
from flask.views import MethodView
from marshmallow import Schema, fields, validate

from backend.services import chronic
from backend.web.idempotency import idempotent
from backend.web.schemas.applications import ApplicationViewSchema, CapAdjustmentRequestSchema, QualificationSchema
from institution_api.base import signed_blueprint

blp = signed_blueprint("institution_chronic", __name__, url_prefix="/api/v1/institution/chronic",
                       description="定点医疗机构：门诊慢特病资格认定、支付限额调整申请登记（签名请求）")


class QualificationRequestSchema(Schema):
    id_number = fields.String(required=True, validate=validate.Length(min=15, max=18))
    disease_code = fields.String(required=True, validate=validate.Length(min=1, max=32))
    disease_name = fields.String(required=True, validate=validate.Length(min=1, max=128))
    valid_from = fields.Date(required=True)
    valid_to = fields.Date(load_default=None, allow_none=True, metadata={"description": "不含当日；空为长期"})


class InstitutionCapAdjustmentSchema(CapAdjustmentRequestSchema):
    id_number = fields.String(required=True, validate=validate.Length(min=15, max=18))


@blp.route("/qualifications")
class Qualifications(MethodView):
    @idempotent
    @blp.arguments(QualificationRequestSchema)
    @blp.response(201, QualificationSchema)
    @blp.alt_response(200, schema=QualificationSchema, description="已认定过的同一资格，原样返回")
    def post(self, body):
        """Record a chronic-disease qualification certified here (certifying hospitals only)"""
        view, created = chronic.post_qualification(g.institution, body)
        return view, 201 if created else 200


@blp.route("/cap-adjustments")
class CapAdjustments(MethodView):
    @idempotent
    @blp.arguments(InstitutionCapAdjustmentSchema)
    @blp.response(201, ApplicationViewSchema)
    def post(self, body):
        """Register a request to raise a person's chronic cap (二级甲等 or above), for the agency's review"""
        return chronic.file_at_institution(g.institution, body)
