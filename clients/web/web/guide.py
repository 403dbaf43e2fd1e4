"""The guide for guardians and students at /help (R-DOC-1), illustrated with the screenshots
the browser tests take (var/screenshots/web), so the pictures are as current as the last
test run; a deployment without them shows the text alone."""

from __future__ import annotations

import os
from pathlib import Path

from flask import Blueprint, abort, render_template, send_from_directory
from flask.typing import ResponseReturnValue

from schoolkit.settings import project_root
from web.signin import current_user

blueprint = Blueprint("help", __name__)
# The tests' names for their pictures: only these are ever served.
PICTURES = (
    "children",
    "week",
    "marks",
    "messages",
    "my-data",
    "notifications",
    "register",
    "no-agreement",
    "offline-week",
)


def screenshots_dir() -> Path:
    configured = os.environ.get("WEB_SCREENSHOTS_DIR")
    return Path(configured) if configured else project_root() / "var" / "screenshots" / "web"


@blueprint.get("/help")
def guide() -> ResponseReturnValue:
    folder = screenshots_dir()
    shown = {name for name in PICTURES if (folder / f"{name}-375.png").is_file()}
    return render_template("help.html", user=current_user(), pictures=shown)


@blueprint.get("/help/pictures/<name>.png")
def picture(name: str) -> ResponseReturnValue:
    if name not in PICTURES:
        abort(404)
    return send_from_directory(screenshots_dir(), f"{name}-375.png", max_age=3600)
