"""Sign-in for insured people: WeChat / Alipay code, bind with name + ID number, refresh, sign out."""

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from backend.services import auth as auth_service
from backend.services import people as people_service
from backend.services import tokens
from backend.web.auth import bearer_token, require_person
from miniapp_api.schemas import LoginSchema, PersonSummarySchema, TokenPairSchema

blp = Blueprint("auth", __name__, url_prefix="/api/v1/auth", description="参保人登录与身份绑定")
dev_blp = Blueprint("dev_auth", __name__, url_prefix="/api/v1/auth", description="开发环境登录（DEV_LOGIN=1）")


class WeChatLoginSchema(Schema):
    code = fields.String(required=True, validate=validate.Length(min=1, max=128))


class AlipayLoginSchema(Schema):
    auth_code = fields.String(required=True, validate=validate.Length(min=1, max=128))


class BindSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=64))
    id_number = fields.String(required=True, validate=validate.Length(min=1, max=32))


class RefreshSchema(Schema):
    refresh_token = fields.String(required=True, validate=validate.Length(min=1, max=256))


class DevLoginSchema(Schema):
    id_number = fields.String(required=True, validate=validate.Length(min=1, max=32))


@blp.route("/wechat")
class WeChatLogin(MethodView):
    @blp.arguments(WeChatLoginSchema)
    @blp.response(200, LoginSchema)
    def post(self, body):
        """Sign in with a wx.login code (tokens if bound, else a bind token)"""
        return auth_service.wechat_login(body["code"]).body


@blp.route("/alipay")
class AlipayLogin(MethodView):
    @blp.arguments(AlipayLoginSchema)
    @blp.response(200, LoginSchema)
    def post(self, body):
        """Sign in with an Alipay auth code (tokens if bound, else a bind token)"""
        return auth_service.alipay_login(body["auth_code"]).body


@blp.route("/bind")
class Bind(MethodView):
    @blp.arguments(BindSchema)
    @blp.response(200, LoginSchema)
    @blp.doc(security=[{"bearer": []}])
    def post(self, body):
        """Bind the signed-in platform user to an insured person (name + ID number)"""
        return auth_service.bind(bearer_token() or "", body["name"], body["id_number"])


@blp.route("/refresh")
class Refresh(MethodView):
    @blp.arguments(RefreshSchema)
    @blp.response(200, TokenPairSchema)
    def post(self, body):
        """Exchange a refresh token for a new pair (the old one is spent)"""
        return tokens.rotate(body["refresh_token"], "insured").as_dict()


@blp.route("/logout")
class Logout(MethodView):
    @blp.arguments(RefreshSchema)
    @blp.response(204)
    def post(self, body):
        """Sign out: the refresh token and its family stop working"""
        tokens.revoke(body["refresh_token"])


@blp.route("/me")
class Me(MethodView):
    decorators = [require_person]

    @blp.response(200, PersonSummarySchema)
    @blp.doc(security=[{"bearer": []}])
    def get(self):
        """Who is signed in (ID number masked)"""
        from flask import g

        return people_service.summary(people_service.get(g.person_id))


@dev_blp.route("/dev-login")
class DevLogin(MethodView):
    @dev_blp.arguments(DevLoginSchema)
    @dev_blp.response(200, LoginSchema)
    def post(self, body):
        """Development sign-in by ID number (only when DEV_LOGIN=1)"""
        return auth_service.dev_login(body["id_number"])
