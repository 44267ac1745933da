"""Schemas shared by several mini-program resources."""

from marshmallow import Schema, fields


class PersonSummarySchema(Schema):
    name = fields.String()
    id_number_masked = fields.String()
    region = fields.String()
    person_type = fields.String()
    status = fields.String()


class TokenPairSchema(Schema):
    access_token = fields.String()
    refresh_token = fields.String()
    token_type = fields.String()
    expires_in = fields.Integer()


class LoginSchema(TokenPairSchema):
    bound = fields.Boolean()
    bind_token = fields.String()
    person = fields.Nested(PersonSummarySchema)
