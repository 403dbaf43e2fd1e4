"""What the identity API accepts and returns (marshmallow); listed in its OpenAPI document."""

import re
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from schoolkit import times

# Data minimisation (and identity.person.changed's contract): only a student's birth date
# is needed, for the journal's age-based lists; no one else's is asked or kept.
BIRTH_DATE_FOR_STUDENTS_ONLY = "Kept for students only: the school needs no other birth date."

# E.164, as identity.contact.changed requires: what is kept is what notify will dial.
E164 = r"^\+[1-9][0-9]{6,14}$"
_SEPARATORS = re.compile(r"[\s()\-.]")
PHONE_HELP = "A phone number in international form, e.g. +7 916 123-45-67."


class Phone(fields.String):
    """A phone number, kept in E.164. Spaces, brackets, dashes and dots are dropped, and a
    Russian number as people write it is completed: 8XXXXXXXXXX and 7XXXXXXXXXX become
    +7XXXXXXXXXX, a ten-digit 9XXXXXXXXX (a mobile without the trunk prefix) +79XXXXXXXXX.
    Anything else that is not E.164 is a 422."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = _SEPARATORS.sub("", super()._deserialize(value, attr, data, **kwargs))
        if re.fullmatch(r"[78][0-9]{10}", text):
            text = "+7" + text[1:]
        elif re.fullmatch(r"9[0-9]{9}", text):
            text = "+7" + text
        if not re.fullmatch(E164, text):
            raise ValidationError(PHONE_HELP)
        return text


class PersonInSchema(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(["staff", "guardian", "student"]))
    last_name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    first_name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    middle_name = fields.String(load_default=None, validate=validate.Length(max=100))
    birth_date = fields.Date(load_default=None)
    roles = fields.List(fields.String(), load_default=list)
    email = fields.Email(load_default=None)
    phone = Phone(load_default=None, metadata={"description": PHONE_HELP})
    language = fields.String(load_default="ru", validate=validate.OneOf(["ru", "en"]))
    login = fields.String(load_default=None, validate=validate.Regexp(r"^[A-Za-z0-9._-]{3,60}$"))
    password = fields.String(load_default=None, load_only=True)

    @validates_schema
    def _birth_date_of_a_student_only(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("birth_date") and data.get("kind") != "student":
            raise ValidationError(BIRTH_DATE_FOR_STUDENTS_ONLY, "birth_date")


class PersonSchema(Schema):
    id = fields.String()
    kind = fields.String()
    last_name = fields.String()
    first_name = fields.String()
    middle_name = fields.String(allow_none=True)
    birth_date = fields.Date(allow_none=True)
    roles = fields.List(fields.String())
    email = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    language = fields.String()


class MeSchema(Schema):
    id = fields.String()
    login = fields.String()
    school_id = fields.String()
    roles = fields.List(fields.String())
    must_change_password = fields.Boolean()


class GuardianshipInSchema(Schema):
    guardian_id = fields.String(required=True)
    student_id = fields.String(required=True)


class GuardianshipSchema(Schema):
    id = fields.String()
    guardian_id = fields.String()
    student_id = fields.String()
    via = fields.String()
    linked_at = times.DateTime()


class BlockSchema(Schema):
    reason = fields.String(
        required=True,
        validate=validate.OneOf(
            ["suspected_unlawful_use", "authority_request", "compromise_reported", "other"]
        ),
    )


class UnblockSchema(Schema):
    restored_with = fields.String(
        load_default="old_password", validate=validate.OneOf(["old_password", "new_password"])
    )


class PersonUpdateSchema(Schema):
    last_name = fields.String(validate=validate.Length(min=1, max=100))
    first_name = fields.String(validate=validate.Length(min=1, max=100))
    middle_name = fields.String(allow_none=True, validate=validate.Length(max=100))
    birth_date = fields.Date(allow_none=True)
    roles = fields.List(fields.String())
    email = fields.Email(allow_none=True)
    phone = Phone(allow_none=True, metadata={"description": PHONE_HELP})
    language = fields.String(validate=validate.OneOf(["ru", "en"]))


class TemporaryPasswordSchema(Schema):
    person_id = fields.String()
    temporary_password = fields.String(metadata={"description": "Shown once; hand it over."})
    must_change_password = fields.Boolean()


class PasswordChangeSchema(Schema):
    current_password = fields.String(required=True, load_only=True)
    new_password = fields.String(required=True, load_only=True)


class InvitationInSchema(Schema):
    student_id = fields.String(required=True)
    guardian_id = fields.String(load_default=None)
    registers = fields.String(
        load_default="guardian", validate=validate.OneOf(["guardian", "student"])
    )


class InvitationSchema(Schema):
    id = fields.String()
    student_id = fields.String()
    guardian_id = fields.String(allow_none=True)
    registers = fields.String()
    issued_at = times.DateTime()
    expires_at = times.DateTime()
    used_at = times.DateTime(allow_none=True)
    revoked_at = times.DateTime(allow_none=True)
    code = fields.String(metadata={"description": "Only in the answer that issues it."})


class RegistrationInSchema(Schema):
    code = fields.String(required=True, validate=validate.Length(min=4, max=40))
    login = fields.String(required=True, validate=validate.Regexp(r"^[A-Za-z0-9._-]{3,60}$"))
    password = fields.String(required=True, load_only=True)
    last_name = fields.String(load_default=None, validate=validate.Length(min=1, max=100))
    first_name = fields.String(load_default=None, validate=validate.Length(min=1, max=100))
    middle_name = fields.String(load_default=None, validate=validate.Length(max=100))
    email = fields.Email(load_default=None)
    phone = Phone(load_default=None, metadata={"description": PHONE_HELP})
    language = fields.String(load_default="ru", validate=validate.OneOf(["ru", "en"]))


class RegisteredSchema(Schema):
    person_id = fields.String()
    login = fields.String()
    student_id = fields.String()


SCHEMAS = {
    "PersonIn": PersonInSchema,
    "Person": PersonSchema,
    "Me": MeSchema,
    "GuardianshipIn": GuardianshipInSchema,
    "Guardianship": GuardianshipSchema,
    "Block": BlockSchema,
    "Unblock": UnblockSchema,
    "PersonUpdate": PersonUpdateSchema,
    "TemporaryPassword": TemporaryPasswordSchema,
    "PasswordChange": PasswordChangeSchema,
    "InvitationIn": InvitationInSchema,
    "Invitation": InvitationSchema,
    "RegistrationIn": RegistrationInSchema,
    "Registered": RegisteredSchema,
}
