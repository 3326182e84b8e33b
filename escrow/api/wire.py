"""Views are the response schemas: a Decimal annotated with a `WireFormat` (escrow.domain.money: `Money`,
`SignedMoney`, `Area`) is documented as a string with its pattern, and written as one (msgspec writes a
Decimal as its string)."""

from __future__ import annotations

from typing import Any

from litestar.openapi.spec import OpenAPIType, Schema
from litestar.plugins import OpenAPISchemaPlugin
from litestar.typing import FieldDefinition

from escrow.domain.money import WireFormat


class WireFormatPlugin(OpenAPISchemaPlugin):
    @staticmethod
    def is_plugin_supported_type(value: Any) -> bool:
        return False  # decided per field, by its annotation

    def is_plugin_supported_field(self, field_definition: FieldDefinition) -> bool:
        return field_definition.has_metadata(WireFormat)

    def to_openapi_schema(self, field_definition: FieldDefinition, schema_creator: Any) -> Schema:
        wire = field_definition.get_from_metadata(WireFormat)
        assert wire is not None
        return Schema(type=OpenAPIType.STRING, pattern=wire.pattern, description=wire.description)
