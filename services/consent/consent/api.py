"""The consent HTTP API under /api/consent/v1: thin routes (parse, call, serialise)."""

from flask import Blueprint

blueprint = Blueprint("consent", __name__, url_prefix="/v1")
