"""The web app's own settings, from the environment with defaults for `make up`."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from schoolkit.settings import Settings

DEFAULT_CLIENT_ID = "school-web"


@dataclass(frozen=True)
class WebConfig:
    client_id: str
    client_secret: str
    # Where this process reaches the gateway (inside a deployment: the nginx container).
    api_url: str
    # Where browsers reach the gateway: the authorization page and our callback live there.
    public_url: str
    session_days: int = 30

    @property
    def redirect_uri(self) -> str:
        return f"{self.public_url}/oauth/callback"

    @property
    def secure_cookies(self) -> bool:
        # Behind TLS the cookie never travels in clear; a local run is plain http.
        return self.public_url.startswith("https://")

    @classmethod
    def from_env(cls, settings: Settings) -> WebConfig:
        public_url = os.environ.get("WEB_PUBLIC_URL") or "http://localhost:8080"
        return cls(
            client_id=os.environ.get("WEB_CLIENT_ID") or DEFAULT_CLIENT_ID,
            client_secret=_secret(settings),
            api_url=(os.environ.get("WEB_API_URL") or public_url).rstrip("/"),
            public_url=public_url.rstrip("/"),
            session_days=int(os.environ.get("WEB_SESSION_DAYS") or 30),
        )


def secret_file(settings: Settings) -> Path:
    """Where `make up` keeps the client secret identity printed once when it registered us."""
    return Path(os.environ.get("WEB_CLIENT_SECRET_FILE") or settings.var_dir / "web-client.secret")


def _secret(settings: Settings) -> str:
    given = os.environ.get("WEB_CLIENT_SECRET")
    if given:
        return given
    path = secret_file(settings)
    # An app without its secret still serves /healthz and the sign-in page says it cannot sign in.
    return path.read_text().strip() if path.is_file() else ""
