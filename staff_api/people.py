"""Insured people for staff: look-up by name and/or ID number (masked), a person's situation, the audited reveal of
a full ID number, and the stored scans of 承诺书 signed at the counter."""

from flask import g, send_file
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from backend.services import counter
from backend.web.auth import require_staff

blp = Blueprint("staff_people", __name__, url_prefix="/api/v1/staff", description="参保人查询（结果脱敏，查看记入审计）")

# Who looks people up: the counter (agents, first reviewers), reviewers checking a case, administrators.
PEOPLE_READERS = ("agent", "first_reviewer", "second_reviewer", "leader", "admin")
COUNTER_ROLES = ("agent", "first_reviewer", "admin")


class PeopleQuerySchema(Schema):
    name = fields.String(validate=validate.Length(max=64), metadata={"description": "姓名（前缀匹配）"})
    id_number = fields.String(validate=validate.Length(max=18),
                              metadata={"description": "完整身份证号码，或其中至少4位"})
    limit = fields.Integer(load_default=20, validate=validate.Range(min=1, max=50))


class PersonFoundSchema(Schema):
    person_id = fields.Integer()
    name = fields.String()
    id_number_masked = fields.String()
    region = fields.String()
    region_label = fields.String()
    person_type = fields.String()
    person_type_label = fields.String()
    status = fields.String()
    status_label = fields.String()
    living_out_of_province = fields.Boolean()


class PersonOverviewSchema(Schema):
    person = fields.Nested(PersonFoundSchema)
    account = fields.Dict(allow_none=True, metadata={"description": "余额与本年划入、支出（元）"})
    caps = fields.Dict(metadata={"description": "本年起付线与各支付限额：allowed / used / remaining（元）"})
    settlements = fields.Dict(metadata={"description": "最近结算（分页结构）"})
    grants = fields.List(fields.Dict(), metadata={"description": "给出与收到的共济授权；signed_promises 列出窗口签署的承诺书扫描件"})
    applications = fields.List(fields.Dict())


class RevealSchema(Schema):
    purpose = fields.String(required=True, validate=validate.Length(min=1, max=200),
                            metadata={"description": "查看完整号码的原因（记入审计）"})


class RevealedSchema(Schema):
    id_number = fields.String()


class PromiseQuerySchema(Schema):
    which = fields.String(load_default="grant", validate=validate.OneOf(["grant", "revoke"]),
                          metadata={"description": "grant: 授权时签署；revoke: 解除授权时签署"})


@blp.route("/people")
class People(MethodView):
    decorators = [require_staff(*PEOPLE_READERS)]

    @blp.arguments(PeopleQuerySchema, location="query")
    @blp.response(200, PersonFoundSchema(many=True))
    @blp.doc(security=[{"bearer": []}])
    def get(self, query):
        """Find insured people by name and/or ID number (results masked; audited)"""
        return counter.find(g.staff.id, name=query.get("name"), id_number=query.get("id_number"),
                            limit=query["limit"])


@blp.route("/people/<int:person_id>")
class Person(MethodView):
    decorators = [require_staff(*PEOPLE_READERS)]

    @blp.response(200, PersonOverviewSchema)
    @blp.doc(security=[{"bearer": []}])
    def get(self, person_id):
        """A person's account, caps, settlements, grants and applications (audited)"""
        return counter.open_person(g.staff.id, person_id)


@blp.route("/people/<int:person_id>/id-number")
class PersonIdNumber(MethodView):
    decorators = [require_staff(*COUNTER_ROLES)]

    @blp.arguments(RevealSchema)
    @blp.response(200, RevealedSchema)
    @blp.doc(security=[{"bearer": []}])
    def post(self, body, person_id):
        """Reveal the full ID number, stating why (audited)"""
        return {"id_number": counter.reveal_id_number(g.staff.id, person_id, body["purpose"])}


@blp.route("/sharing/grants/<string:grant_id>/promise")
class StoredPromise(MethodView):
    decorators = [require_staff(*COUNTER_ROLES)]

    @blp.arguments(PromiseQuerySchema, location="query")
    @blp.response(200, content_type="application/octet-stream")
    @blp.doc(security=[{"bearer": []}])
    def get(self, query, grant_id):
        """Download the scanned 承诺书 signed at the counter for a grant or its revoke (audited)"""
        path, content_type, name = counter.promise_file(g.staff.id, grant_id, query["which"])
        return send_file(path, mimetype=content_type, download_name=name)
