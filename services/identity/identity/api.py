"""The identity HTTP API under /api/identity/v1: thin routes (parse, call, serialise)."""

from flask import Blueprint

blueprint = Blueprint("identity", __name__, url_prefix="/v1")
