"""A chat transcript line, as the insured person and the service agent both see it."""

from marshmallow import Schema, fields


class TranscriptMessageSchema(Schema):
    id = fields.Integer()
    sender = fields.String(metadata={"description": "user | bot | agent"})
    text = fields.String()
    intent = fields.String(allow_none=True)
    reply = fields.Dict(allow_none=True)
    created_at = fields.DateTime()
