"""What the archive API accepts and returns (marshmallow); listed in its OpenAPI document."""

from marshmallow import Schema, fields

from schoolkit import times


class BackupSchema(Schema):
    id = fields.String()
    kind = fields.String()
    status = fields.String(metadata={"description": "queued, running, completed or failed"})
    started_at = times.DateTime()
    finished_at = times.DateTime(allow_none=True)
    sha256 = fields.String(allow_none=True)
    size_bytes = fields.Integer(allow_none=True)
    records = fields.Integer(allow_none=True)
    services = fields.List(fields.String())


class BackupListSchema(Schema):
    items = fields.List(fields.Nested(BackupSchema))


class VerificationSchema(Schema):
    backup_id = fields.String()
    intact = fields.Boolean()
    expected_sha256 = fields.String(allow_none=True)
    actual_sha256 = fields.String(allow_none=True)


class RestoreRequestSchema(Schema):
    backup_id = fields.String(required=True)


class RestoreReportSchema(Schema):
    restored = fields.Integer()
    already_present = fields.Integer()
    skipped_erased = fields.Integer(metadata={"description": "About an erased person."})
    skipped_unreadable = fields.Integer(metadata={"description": "Its key was destroyed."})


class DrillSchema(Schema):
    """A restore drill of one service's database: deployment-wide, no school's data."""

    id = fields.String()
    service = fields.String()
    backup_set_id = fields.String(allow_none=True)
    started_at = times.DateTime()
    finished_at = times.DateTime(allow_none=True)
    passed = fields.Boolean()
    seconds = fields.Float(allow_none=True)
    replayed_erasures = fields.Integer(allow_none=True)
    residue = fields.Integer(
        allow_none=True, metadata={"description": "Rows still naming someone erased: 0."}
    )
    failure = fields.String(allow_none=True)


class DrillListSchema(Schema):
    items = fields.List(fields.Nested(DrillSchema))


SCHEMAS: dict[str, type[Schema]] = {
    "Drill": DrillSchema,
    "DrillList": DrillListSchema,
    "Backup": BackupSchema,
    "BackupList": BackupListSchema,
    "Verification": VerificationSchema,
    "RestoreRequest": RestoreRequestSchema,
    "RestoreReport": RestoreReportSchema,
}
