"""A signed no-op for vendors to check their signing code against before going live."""

import time

from flask import g, request
from flask.views import MethodView
from marshmallow import Schema, fields

from backend.web.idempotency import idempotent
from institution_api.base import signed_blueprint

blp = signed_blueprint("institution_ping", __name__, url_prefix="/api/v1/institution",
                       description="定点机构接口（签名请求）")


class EchoSchema(Schema):
    institution_code = fields.String()
    received_at = fields.Integer()
    body_bytes = fields.Integer()


@blp.route("/ping")
class Ping(MethodView):
    @idempotent
    @blp.response(200, EchoSchema)
    def post(self):
        """Check a request signature: answers with what the server understood"""
        return {"institution_code": g.institution.code, "received_at": int(time.time()),
                "body_bytes": len(request.get_data(cache=True))}
