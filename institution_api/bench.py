"""Bench only: the same signed stack writing one row, the baseline of bench/settlement_bench.py.

Registered only when BENCH_ENDPOINTS=1, which the benchmark's own server sets; never in production.
"""

import os

from flask import g
from flask.views import MethodView
from marshmallow import Schema, fields

from backend.services import baseline
from backend.web.idempotency import idempotent
from institution_api.base import signed_blueprint
from institution_api.settlements import SettlementRequestSchema

blp = signed_blueprint("institution_bench", __name__, url_prefix="/api/v1/institution/bench",
                       description="基准测试（仅 BENCH_ENDPOINTS=1 时注册）")


def blueprints() -> list:
    return [blp] if os.environ.get("BENCH_ENDPOINTS") == "1" else []


class OneRowSchema(Schema):
    refund_no = fields.String()


@blp.route("/one-row")
class BenchOneRow(MethodView):
    @idempotent
    @blp.arguments(SettlementRequestSchema)
    @blp.response(201, OneRowSchema)
    def post(self, body):
        """Write one audit row and answer (a baseline for the settlement benchmark)"""
        key = body.get("order_no") or "-"
        baseline.write_one_row(g.institution.code, key)
        return {"refund_no": key}
