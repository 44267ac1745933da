"""Staff accounts, for administrators: create, roles, deactivate (sessions and tokens stop at once), reactivate,
reset password. Every change is audited."""

from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from backend.services.staff import STAFF_ROLES
from backend.services import staff
from backend.web.auth import require_staff
from backend.web.idempotency import idempotent

blp = Blueprint("staff_users", __name__, url_prefix="/api/v1/staff/users", description="经办人员账号管理（管理员）")

ROLE = fields.String(validate=validate.OneOf(STAFF_ROLES))


class StaffAccountSchema(Schema):
    id = fields.Integer()
    username = fields.String()
    display_name = fields.String()
    roles = fields.List(fields.String())
    role_labels = fields.List(fields.String())
    active = fields.Boolean()
    created_at = fields.DateTime()


class StaffCreateSchema(Schema):
    username = fields.String(required=True, validate=validate.Length(min=2, max=64))
    display_name = fields.String(required=True, validate=validate.Length(min=1, max=64))
    roles = fields.List(ROLE, required=True, validate=validate.Length(min=1))
    password = fields.String(required=True, load_only=True, validate=validate.Length(min=staff.MIN_PASSWORD_LENGTH,
                                                                                     max=256))


class StaffUpdateSchema(Schema):
    display_name = fields.String(validate=validate.Length(min=1, max=64))
    roles = fields.List(ROLE, validate=validate.Length(min=1))


class PasswordSchema(Schema):
    password = fields.String(required=True, load_only=True, validate=validate.Length(min=staff.MIN_PASSWORD_LENGTH,
                                                                                     max=256))


@blp.route("")
class StaffAccounts(MethodView):
    decorators = [require_staff("admin")]

    @blp.response(200, StaffAccountSchema(many=True))
    @blp.doc(security=[{"bearer": []}])
    def get(self):
        """Every staff account, active first"""
        return staff.list_accounts()

    @idempotent
    @blp.arguments(StaffCreateSchema)
    @blp.response(201, StaffAccountSchema)
    @blp.doc(security=[{"bearer": []}])
    def post(self, body):
        """Create a staff account with its roles (409 username_taken)"""
        return staff.create(g.staff.id, username=body["username"], display_name=body["display_name"],
                            roles=body["roles"], password=body["password"])


@blp.route("/<int:staff_id>")
class StaffAccount(MethodView):
    decorators = [require_staff("admin")]

    @blp.response(200, StaffAccountSchema)
    @blp.doc(security=[{"bearer": []}])
    def get(self, staff_id):
        """One staff account"""
        return staff.get_account(staff_id)

    @blp.arguments(StaffUpdateSchema)
    @blp.response(200, StaffAccountSchema)
    @blp.doc(security=[{"bearer": []}])
    def patch(self, body, staff_id):
        """Change roles and/or display name (an administrator cannot drop their own admin role)"""
        return staff.edit(g.staff.id, staff_id, roles=body.get("roles"), display_name=body.get("display_name"))


@blp.route("/<int:staff_id>/deactivate")
class Deactivate(MethodView):
    decorators = [require_staff("admin")]

    @blp.response(200, StaffAccountSchema)
    @blp.doc(security=[{"bearer": []}])
    def post(self, staff_id):
        """Deactivate: the account's console sessions and tokens stop working at once"""
        return staff.deactivate(g.staff.id, staff_id)


@blp.route("/<int:staff_id>/reactivate")
class Reactivate(MethodView):
    decorators = [require_staff("admin")]

    @blp.response(200, StaffAccountSchema)
    @blp.doc(security=[{"bearer": []}])
    def post(self, staff_id):
        """Reactivate a deactivated account"""
        return staff.reactivate(g.staff.id, staff_id)


@blp.route("/<int:staff_id>/password")
class Password(MethodView):
    decorators = [require_staff("admin")]

    @blp.arguments(PasswordSchema)
    @blp.response(200, StaffAccountSchema)
    @blp.doc(security=[{"bearer": []}])
    def post(self, body, staff_id):
        """Set a new password; every session and token of the account ends"""
        return staff.reset_password(g.staff.id, staff_id, body["password"])
