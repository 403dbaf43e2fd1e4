"""The diary HTTP API under /api/diary/v1: thin routes (parse, call, serialise)."""

from flask import Blueprint

blueprint = Blueprint("diary", __name__, url_prefix="/v1")
