"""The app a phone installs (a Progressive Web App): its manifest and its service worker,
at the addresses DESIGN §9 fixes (/manifest.webmanifest, /sw.js).

The service worker keeps the last week page it loaded and shows it, marked as an offline
copy with its time, when the network is gone; signing out empties its cache.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, send_from_directory, url_for
from flask_babel import gettext as _

blueprint = Blueprint("pwa", __name__)


@blueprint.get("/manifest.webmanifest")
def manifest() -> Response:
    answer = jsonify(
        {
            "name": _("Электронный дневник"),
            "short_name": _("Дневник"),
            "start_url": url_for("pages.home"),
            "scope": "/",
            "display": "standalone",
            "background_color": "#ffffff",
            "theme_color": "#0b5cad",
            "icons": [
                _icon("icon-192.png", "192x192", "any"),
                _icon("icon-512.png", "512x512", "any"),
                _icon("icon-maskable-512.png", "512x512", "maskable"),
            ],
        }
    )
    answer.mimetype = "application/manifest+json"
    return answer


def _icon(name: str, sizes: str, purpose: str) -> dict[str, str]:
    source = url_for("static", filename=f"icons/{name}")
    return {"src": source, "sizes": sizes, "type": "image/png", "purpose": purpose}


@blueprint.get("/sw.js")
def service_worker() -> Response:
    # Served from the root so that its scope is the whole app; never cached itself, so a
    # new version reaches phones on their next visit.
    answer = send_from_directory(current_app.static_folder or "", "sw.js", max_age=0)
    answer.headers["Cache-Control"] = "no-cache"
    return answer
