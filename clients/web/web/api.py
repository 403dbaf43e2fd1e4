"""The services' public APIs, called through the gateway with the signed-in user's token.

The web app holds no school data: what a page shows is what these calls return for that
user's own token, so every rule of the APIs (own child, own diary) applies unchanged.
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import requests
from flask import current_app

from schoolkit.context import correlation_id_var, request_id_var

TIMEOUT_SECONDS = 10.0
# Answers kept for conditional requests (ETag): the pages' reads of the last few thousand
# sessions. Bodies are the API's answers to that token, never shown to another.
KEPT_BODIES = 4096


class NotFound(Exception):
    """The API answered 404: unknown, or not this user's (the same answer, on purpose)."""


class SignedOut(Exception):
    """The API refused the token (401): the session is over."""


class Unavailable(Exception):
    """The API did not answer, or failed (5xx): a readable page, never a stack trace."""


class Refused(Exception):
    """The API refused the request (422, 409…): the page says so."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(status)
        self.status = status
        self.body = body


class Api:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self._local = threading.local()
        self._bodies: dict[tuple[str, str, tuple[tuple[str, str], ...]], tuple[str, Any]] = {}

    @property
    def http(self) -> requests.Session:
        # One connection pool per thread: requests' Session is not meant to be shared.
        session = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            session.trust_env = False
            self._local.session = session
        return session

    def call(
        self,
        method: str,
        path: str,
        token: str | None,
        headers: dict[str, str] | None = None,
        **options: Any,
    ) -> requests.Response:
        """`token` None: a public endpoint (registration with a code)."""
        headers = {
            **(headers or {}),
            "X-Request-ID": request_id_var.get() or "",
            "X-Correlation-ID": correlation_id_var.get() or "",
        }
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        try:
            answer = self.http.request(
                method, self.base_url + path, headers=headers, timeout=TIMEOUT_SECONDS, **options
            )
        except requests.RequestException as error:
            raise Unavailable(path) from error
        return _checked(answer, path)

    def get(self, path: str, token: str, params: dict[str, str] | None = None) -> Any:
        """A read; one answered before with an ETag is asked for conditionally, and the
        diary's 304 reuses the body kept for this token (the same user's same view)."""
        key = (token, path, tuple(sorted((params or {}).items())))
        kept = self._bodies.get(key)
        conditional = {"If-None-Match": kept[0]} if kept else {}
        answer = self.call("GET", path, token, headers=conditional, params=params)
        if answer.status_code == 304 and kept:
            return kept[1]
        body = answer.json()
        etag = answer.headers.get("ETag")
        if etag:
            if len(self._bodies) >= KEPT_BODIES:
                self._bodies.clear()  # simpler than LRU; refilled one answer at a time
            self._bodies[key] = (etag, body)
        return body

    def send(self, method: str, path: str, token: str, body: dict[str, Any]) -> Any:
        return self.call(method, path, token, json=body).json()


def _checked(answer: requests.Response, path: str) -> requests.Response:
    if answer.status_code == 404:
        raise NotFound(path)
    if answer.status_code == 401:
        raise SignedOut(path)
    if answer.status_code >= 500:
        raise Unavailable(path)
    if answer.status_code >= 400:
        try:
            body = answer.json()
        except ValueError:
            body = {}
        raise Refused(answer.status_code, body)
    return answer


# The calls one page makes side by side: each waits on a service, not on this process.
_SIDE_BY_SIDE = ThreadPoolExecutor(max_workers=16, thread_name_prefix="web-api")


def side_by_side(*calls: Callable[[], Any]) -> list[Any]:
    """Run a page's independent API calls at once; the first error is raised as if alone.

    Each runs in a copy of this request's context (its request and correlation ids).
    """
    futures = [_SIDE_BY_SIDE.submit(contextvars.copy_context().run, call) for call in calls]
    return [future.result() for future in futures]


def api() -> Api:
    return current_app.extensions["web_api"]  # type: ignore[no-any-return]
