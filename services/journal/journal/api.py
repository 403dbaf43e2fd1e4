"""The journal HTTP API under /api/journal/v1: thin routes (parse, call, serialise)."""

from flask import Blueprint

blueprint = Blueprint("journal", __name__, url_prefix="/v1")
