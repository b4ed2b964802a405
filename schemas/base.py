"""The one base schema every API body derives from."""

from marshmallow import RAISE, Schema


class BaseSchema(Schema):
    """Unknown keys are rejected: a typo must never silently drop a fact."""

    class Meta:
        unknown = RAISE
        ordered = True
