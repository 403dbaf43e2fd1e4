"""Where a login comes from, and the limit on failed logins per network address.

Behind the gateway (nginx, or the local Python gateway) every request arrives from the
proxy, so the client's address is read from X-Forwarded-For, walking from the right
only while the hop that wrote it is a trusted proxy (IDENTITY_TRUSTED_PROXIES): what a
client writes into that header itself is never believed.

An address with IDENTITY_ADDRESS_MAX_FAILURES failed logins (20 by default) within the
window is refused for IDENTITY_ADDRESS_REFUSE_MINUTES (15), for every login from it,
with the answer of any other failure. The counters live in the database, so every
gunicorn worker sees them, and they belong to the address, not to an account: an
attacker elsewhere cannot keep a user out this way.
"""

from __future__ import annotations

import functools
import ipaddress
import os
from datetime import datetime, timedelta
from typing import Any

from flask import request
from sqlalchemy import case, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from identity.oauth.tables import AddressFailures
from schoolkit.events import as_utc

MAX_FAILURES = int(os.environ.get("IDENTITY_ADDRESS_MAX_FAILURES") or 20)
WINDOW = timedelta(minutes=float(os.environ.get("IDENTITY_ADDRESS_WINDOW_MINUTES") or 15))
REFUSE_FOR = timedelta(minutes=float(os.environ.get("IDENTITY_ADDRESS_REFUSE_MINUTES") or 15))
# Only the local gateway (loopback) by default. Not the private ranges: a client on the
# school's own network would then name any address it liked in X-Forwarded-For and escape
# the per-address limit. A deployment names its gateway's address (docker-compose.yml).
DEFAULT_TRUSTED = "127.0.0.1/32,::1/128"
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def client_address() -> str | None:
    """The address of whoever sent this request, through trusted proxies only."""
    if "werkzeug.proxy_fix.orig" in request.environ:
        # A ProxyFix in front has already taken the proxies' hops off the header: walking
        # it again would believe what a client wrote there itself.
        return request.remote_addr
    address = _parsed(request.remote_addr)
    if address is None:
        return None
    forwarded = [hop.strip() for hop in request.headers.get("X-Forwarded-For", "").split(",")]
    while _is_trusted(address) and forwarded:
        earlier = _parsed(forwarded.pop())
        if earlier is None:
            break  # a hop that is not an address: keep the last one we can vouch for
        address = earlier
    return str(address)


def came_over_https() -> bool:
    """Whether the browser's own connection was HTTPS: directly, or as a trusted proxy
    in front (the gateway terminating TLS) says in X-Forwarded-Proto."""
    if request.is_secure:
        return True
    peer = _parsed(request.remote_addr)
    forwarded = request.headers.get("X-Forwarded-Proto", "").split(",")[0].strip().lower()
    return peer is not None and _is_trusted(peer) and forwarded == "https"


def _parsed(text: str | None) -> Address | None:
    try:
        return ipaddress.ip_address(text or "")
    except ValueError:
        return None


def _is_trusted(address: Address) -> bool:
    configured = os.environ.get("IDENTITY_TRUSTED_PROXIES") or DEFAULT_TRUSTED
    return any(address in network for network in _networks(configured))


@functools.lru_cache(maxsize=4)
def _networks(configured: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(n.strip()) for n in configured.split(",") if n.strip())


def is_refused(session: Session, address: str | None, now: datetime) -> bool:
    if address is None:
        return False
    row = session.get(AddressFailures, address)
    return row is not None and row.refused_until is not None and as_utc(row.refused_until) > now


def count_failure(session: Session, address: str | None, now: datetime) -> None:
    """One more failure from `address`; at the limit the address is refused for a while.

    One atomic upsert, so concurrent failures in several workers all count.
    """
    if address is None:
        return
    table = AddressFailures.__table__
    window_over = table.c.window_started_at <= now - WINDOW
    statement = (
        _insert(session)(table)
        .values(address=address, window_started_at=now, failures=1)
        .on_conflict_do_update(
            index_elements=[table.c.address],
            set_={
                "failures": case((window_over, 1), else_=table.c.failures + 1),
                "window_started_at": case((window_over, now), else_=table.c.window_started_at),
            },
        )
        .returning(table.c.failures)
    )
    if session.execute(statement).scalar_one() >= MAX_FAILURES:
        session.execute(
            update(AddressFailures)
            .where(AddressFailures.address == address)
            .values(refused_until=now + REFUSE_FOR, failures=0, window_started_at=now)
        )


def _insert(session: Session) -> Any:
    dialect = session.get_bind().dialect.name
    return postgresql.insert if dialect == "postgresql" else sqlite.insert
