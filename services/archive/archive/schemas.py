"""What the archive API accepts and returns (marshmallow); listed in its OpenAPI document."""

from marshmallow import Schema

SCHEMAS: dict[str, type[Schema]] = {}
