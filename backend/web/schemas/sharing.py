"""How a sharing grant looks to the insured and to counter staff."""

from marshmallow import Schema, fields


class PartySchema(Schema):
    name = fields.String()
    id_number_masked = fields.String()


class GrantSchema(Schema):
    grant_id = fields.String()
    status = fields.String(metadata={"description": "active | revoked"})
    direction = fields.String(metadata={"description": "given | received, seen from the caller"})
    relation = fields.String()
    relation_label = fields.String()
    owner = fields.Nested(PartySchema)
    relative = fields.Nested(PartySchema)
    channel = fields.String()
    granted_at = fields.DateTime()
    granted_at_counter = fields.Boolean()
    promise_text_version = fields.String()
    promise_accepted_at = fields.DateTime()
    policy_version = fields.String()
    revoked_at = fields.DateTime(allow_none=True)
    revoke_channel = fields.String(allow_none=True)
