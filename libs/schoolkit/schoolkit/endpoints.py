"""Where a URL points, and whether anything answers there: for start-up checks and messages."""

from __future__ import annotations

import socket
from urllib.parse import urlparse


def host_port(url: str, default_port: int) -> str:
    """`host:port` of a URL, never the credentials it may carry (they must not be printed)."""
    parsed = urlparse(url)
    return f"{parsed.hostname or '127.0.0.1'}:{parsed.port or default_port}"


def reachable(url: str, default_port: int, timeout: float = 2.0) -> bool:
    """True when a TCP connection to the URL's host and port opens."""
    parsed = urlparse(url)
    address = (parsed.hostname or "127.0.0.1", parsed.port or default_port)
    try:
        with socket.create_connection(address, timeout):
            return True
    except OSError:
        return False
