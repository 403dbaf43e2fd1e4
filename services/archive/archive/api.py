"""The archive HTTP API under /api/archive/v1: thin routes (parse, call, serialise)."""

from flask import Blueprint

blueprint = Blueprint("archive", __name__, url_prefix="/v1")
