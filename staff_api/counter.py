"""Counter services for agency staff (窗口经办): family sharing on a person's behalf with the signed 承诺书 (NX §7),
and the cross-province transfer-out of an individual account (NX §8).

Counter work is done by service agents (``agent``, who serve the chat and the counter) and by the case handlers who
already handle people's paperwork — ``first_reviewer`` (经办/初审) and ``admin``. Closing an account by transfer-out
moves money, so it is ``admin`` only.
"""

from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint
from flask_smorest.fields import Upload
from marshmallow import Schema, fields, validate

from backend.services import accounts, sharing
from backend.web.auth import require_staff
from backend.web.idempotency import idempotent
from backend.web.schemas.sharing import GrantSchema

blp = Blueprint("staff_counter", __name__, url_prefix="/api/v1/staff", description="窗口业务：家庭共济代办、账户转出")

COUNTER_ROLES = ("agent", "first_reviewer", "admin")


class CounterGrantFormSchema(Schema):
    owner_id_number = fields.String(required=True, validate=validate.Length(min=1, max=32))
    relative_name = fields.String(required=True, validate=validate.Length(min=1, max=64))
    relative_id_number = fields.String(required=True, validate=validate.Length(min=1, max=32))
    relation = fields.String(required=True, validate=validate.Length(min=1, max=32))


class CounterRevokeFormSchema(Schema):
    owner_id_number = fields.String(required=True, validate=validate.Length(min=1, max=32))


class SignedPromiseSchema(Schema):
    promise = Upload(required=True, metadata={"description": "签字的《承诺书》扫描件（JPG、PNG 或 PDF）"})


class CounterLookupSchema(Schema):
    id_number = fields.String(required=True, validate=validate.Length(min=1, max=32))


class TransferOutSchema(Schema):
    destination = fields.String(required=True, validate=validate.Length(min=1, max=100),
                                metadata={"description": "转入地（省份及经办机构）"})


class TransferOutResultSchema(Schema):
    person_id = fields.Integer()
    amount = fields.String(metadata={"description": "转出金额（元）"})
    destination = fields.String()
    status = fields.String()
    closed_at = fields.DateTime()
    grants_ended = fields.Integer()


@blp.route("/counter/sharing/grants")
class CounterGrants(MethodView):
    decorators = [require_staff(*COUNTER_ROLES)]

    @blp.arguments(CounterLookupSchema, location="query")
    @blp.response(200, GrantSchema(many=True))
    @blp.doc(security=[{"bearer": []}])
    def get(self, query):
        """A person's grants, given and received (to find the one to revoke)"""
        person, found = sharing.grants_at_counter(query["id_number"])
        return [sharing.grant_view(grant, person.id) for grant in found]

    @idempotent
    @blp.arguments(CounterGrantFormSchema, location="form")
    @blp.arguments(SignedPromiseSchema, location="files")
    @blp.response(201, GrantSchema)
    @blp.doc(security=[{"bearer": []}])
    def post(self, form, files):
        """Grant on the owner's behalf with the signed 承诺书 (multipart)"""
        upload = files["promise"]
        grant = sharing.grant_at_counter(
            g.staff.id, owner_id_number=form["owner_id_number"], relative_name=form["relative_name"],
            relative_id_number=form["relative_id_number"], relation=form["relation"],
            promise_filename=upload.filename or "", promise_bytes=upload.read())
        return sharing.grant_view(grant, grant.owner_person_id)


@blp.route("/counter/sharing/grants/<string:grant_id>/revoke")
class CounterRevoke(MethodView):
    decorators = [require_staff(*COUNTER_ROLES)]

    @idempotent
    @blp.arguments(CounterRevokeFormSchema, location="form")
    @blp.arguments(SignedPromiseSchema, location="files")
    @blp.response(200, GrantSchema)
    @blp.doc(security=[{"bearer": []}])
    def post(self, form, files, grant_id):
        """Revoke on the owner's behalf with the signed 承诺书 (multipart)"""
        upload = files["promise"]
        grant = sharing.revoke_at_counter(g.staff.id, grant_id, owner_id_number=form["owner_id_number"],
                                          promise_filename=upload.filename or "", promise_bytes=upload.read())
        return sharing.grant_view(grant, grant.owner_person_id)


@blp.route("/accounts/<int:person_id>/transfer-out")
class TransferOut(MethodView):
    decorators = [require_staff("admin")]

    @idempotent
    @blp.arguments(TransferOutSchema)
    @blp.response(200, TransferOutResultSchema)
    @blp.doc(security=[{"bearer": []}])
    def post(self, body, person_id):
        """Cross-province transfer-out (NX §8): move the whole balance out and close the account"""
        return accounts.transfer_out(person_id, staff_id=g.staff.id, destination=body["destination"])
