"""The notify HTTP API under /api/notify/v1: thin routes (parse, call, serialise)."""

from flask import Blueprint

blueprint = Blueprint("notify", __name__, url_prefix="/v1")
