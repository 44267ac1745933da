"""Schemas for what every output computed from policy figures carries: the sample label (issue #11.5)."""

from marshmallow import Schema, fields


class SampleSchema(Schema):
    is_sample = fields.Boolean(metadata={"description": "true：结果依赖样例参数（非官方公布数字）"})
    label = fields.String(allow_none=True, metadata={"description": "给人看的样例说明（中文）"})
    parameters = fields.List(fields.String(), metadata={"description": "所依赖的样例参数路径"})
