"""Staff sign-in."""

from flask import g, request
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from backend.extensions import limiter
from backend.services import staff as staff_service
from backend.services import tokens
from backend.web.auth import require_staff

blp = Blueprint("staff_auth", __name__, url_prefix="/api/v1/staff/auth", description="经办人员登录")


class StaffLoginSchema(Schema):
    username = fields.String(required=True, validate=validate.Length(min=1, max=64))
    password = fields.String(required=True, validate=validate.Length(min=1, max=256), load_only=True)


class StaffTokenSchema(Schema):
    access_token = fields.String()
    refresh_token = fields.String()
    token_type = fields.String()
    expires_in = fields.Integer()


class StaffRefreshSchema(Schema):
    refresh_token = fields.String(required=True, validate=validate.Length(min=1, max=256))


class StaffProfileSchema(Schema):
    username = fields.String()
    display_name = fields.String()
    roles = fields.List(fields.String())


@blp.route("/login")
class StaffLogin(MethodView):
    decorators = [limiter.limit("10/minute")]

    @blp.arguments(StaffLoginSchema)
    @blp.response(200, StaffTokenSchema)
    def post(self, body):
        """Sign in with username and password"""
        return staff_service.login(body["username"], body["password"], request.remote_addr).as_dict()


@blp.route("/refresh")
class StaffRefresh(MethodView):
    @blp.arguments(StaffRefreshSchema)
    @blp.response(200, StaffTokenSchema)
    def post(self, body):
        """Exchange a staff refresh token for a new pair"""
        return tokens.rotate(body["refresh_token"], "staff").as_dict()


@blp.route("/me")
class StaffMe(MethodView):
    decorators = [require_staff()]

    @blp.response(200, StaffProfileSchema)
    @blp.doc(security=[{"bearer": []}])
    def get(self):
        """The signed-in staff member and their roles"""
        return g.staff
