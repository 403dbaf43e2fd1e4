"""The local run's mail server: what notify sends lands as .eml files in var/mail/.

Only for `make up` on one machine; a deployment points NOTIFY_SMTP_HOST at a real relay.
"""

from __future__ import annotations

import os
import signal
import threading
import uuid
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

PORT = int(os.environ.get("NOTIFY_SMTP_PORT", "8025"))
MAIL_DIR = Path(os.environ.get("SCHOOL_VAR_DIR", "var")) / "mail"


class SaveToFiles:
    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's hook name
        MAIL_DIR.mkdir(parents=True, exist_ok=True)
        (MAIL_DIR / f"{uuid.uuid4().hex}.eml").write_bytes(envelope.content)
        return "250 Message accepted"


def main() -> None:
    controller = Controller(SaveToFiles(), hostname="127.0.0.1", port=PORT)
    controller.start()
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    stop.wait()
    controller.stop()


if __name__ == "__main__":
    main()
