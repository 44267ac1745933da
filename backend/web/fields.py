"""Marshmallow fields shared by the API surfaces."""

from marshmallow import ValidationError, fields

from backend.domain.money import InvalidAmount, yuan_to_fen


class YuanAmount(fields.Field):
    """A positive amount in yuan ("12.30" or 12.3, at most two decimals), loaded as integer fen."""

    def _deserialize(self, value, attr, data, **kwargs):
        try:
            fen = yuan_to_fen(value)
        except InvalidAmount:
            raise ValidationError("金额须为数字，最多两位小数") from None
        if fen <= 0:
            raise ValidationError("金额须大于零")
        return fen


class WholeNumber(fields.Integer):
    """An integer as JSON sends it (7) or as a query string does ("7"): not 1.5, 7.0, " 7" or full-width digits."""

    def _validated(self, value):
        if isinstance(value, bool) or not (isinstance(value, int) or (
                isinstance(value, str) and value.isascii() and value.isdigit())):
            raise self.make_error("invalid")
        return super()._validated(value)
