"""Sending due deliveries: a periodic task of the notify worker.

Each message is claimed and marked `sending` in a committed transaction before it is
handed to the provider, and its outcome is committed after: a second worker never sends
it again, and a worker killed between the provider's answer and the commit leaves it in
`sending`. Such a delivery is not sent again when its lease runs out, since it may well
have reached the person; it is given up as `outcome_unknown` and reported
(`notify.delivery.failed`), so the school can check. Exactly one message or a report,
never two messages.

Everyday news is rendered here, when it leaves: a digest gathers every waiting item of
the recipient on that channel, for all their children, into one message. A failure is
retried with exponential back-off; after the last try notify gives up and reports it.
Whatever the outcome, the address and the text are scrubbed: only ids and status remain.
"""

from __future__ import annotations

import logging
import smtplib
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

import requests
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from notify import categories
from notify.budget import hold_if_over
from notify.config import DeliveryConfig
from notify.metrics import DELIVERIES_FINISHED, OLDEST_UNDELIVERED_AGE
from notify.models import Delivery
from notify.notices import delivery_failed_event
from notify.rendering import Cancel, NotYet, Render, look_up, render_group
from notify.sms import build_sms_transport
from notify.transport import Outgoing, PermanentFailure, Transport
from schoolkit.db import Database
from schoolkit.outbox import publish
from schoolkit.times import aware

log = logging.getLogger(__name__)

DUE = ("pending", "created")
CLAIM_BATCH = 100  # messages claimed and rendered in one transaction
# The reasons notify.delivery.failed.v1 knows; notify's own finer ones (outcome_unknown,
# no_name) stay on the delivery and travel as the provider's failure they amount to.
EVENT_REASONS = frozenset(
    {"no_contact", "invalid_address", "bounced", "rejected", "provider_error", "expired"}
)


def sender_database(database: Database) -> Database:
    """The sender's own connections, committing without waiting for the disk (PostgreSQL).

    A killed worker loses nothing by it: each commit has reached the server before the
    message is handed over. Only a crash of the database server itself could lose the last
    moments' marks, and then a message may go out twice. Waiting for the disk at every
    commit, twice per message, held notify to a fraction of bare smtplib's pace
    (bench/notify). The consumer's own connections keep waiting: an event acknowledged to
    the broker must never be lost.
    """
    if not database.is_postgres:
        return database
    url = database.engine.url.render_as_string(hide_password=False)
    return Database(url, connect_args={"options": "-c synchronous_commit=off"}, pool_size=2)


class SmtpTransport:
    """SMTP, one connection kept for a sender's turn: a new one per message (TCP, EHLO,
    perhaps STARTTLS and AUTH) would cost more than the message itself."""

    def __init__(self, config: DeliveryConfig) -> None:
        self.config = config
        self._smtp: smtplib.SMTP | None = None

    def send(self, message: Outgoing) -> None:
        mail = self._mail(message)
        try:
            try:
                self._connection().send_message(mail)
            except smtplib.SMTPServerDisconnected:
                self.close()  # the kept connection went stale: once more on a fresh one
                self._connection().send_message(mail)
        except smtplib.SMTPRecipientsRefused as error:
            raise PermanentFailure("invalid_address") from error
        except (OSError, smtplib.SMTPException):
            self.close()
            raise

    def _mail(self, message: Outgoing) -> EmailMessage:
        mail = EmailMessage()
        mail["From"] = self.config.mail_from
        mail["To"] = message.address
        mail["Subject"] = message.subject
        mail["X-Delivery-Id"] = message.id
        mail["Message-ID"] = f"<{message.id}@notify.school>"  # the same message, if ever twice
        if message.unsubscribe_url:
            mail["List-Unsubscribe"] = f"<{message.unsubscribe_url}>"
            mail["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        mail.set_content(message.body)
        return mail

    def _connection(self) -> smtplib.SMTP:
        if self._smtp is None:
            smtp = smtplib.SMTP(self.config.smtp_host, self.config.smtp_port, timeout=10)
            if self.config.smtp_starttls:
                smtp.starttls()
            if self.config.smtp_user:
                smtp.login(self.config.smtp_user, self.config.smtp_password or "")
            self._smtp = smtp
        return self._smtp

    def close(self) -> None:
        """At the end of a turn, or after an error."""
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            try:
                smtp.quit()
            except (OSError, smtplib.SMTPException):
                smtp.close()


class HttpSmsTransport:
    """An SMS gateway that takes `{"to", "text", "id"}` as JSON over HTTP."""

    def __init__(self, config: DeliveryConfig) -> None:
        self.url = config.sms_url or ""

    def send(self, message: Outgoing) -> None:
        text = f"{message.subject}. {message.body}" if message.subject else message.body
        response = requests.post(
            self.url, json={"to": message.address, "text": text, "id": message.id}, timeout=10
        )
        if response.status_code in (400, 422):
            raise PermanentFailure("rejected")
        response.raise_for_status()


class Sender:
    """Sends what is due; `transports` maps a channel to its transport."""

    def __init__(self, config: DeliveryConfig, transports: dict[str, Transport] | None = None):
        self.config = config
        self.transports = transports or {
            "email": SmtpTransport(config),
            "sms": build_sms_transport(config) or HttpSmsTransport(config),
        }

        self._databases: dict[int, Database] = {}

    def __call__(self, database: Database) -> None:
        self.send_due(database)

    def _own(self, database: Database) -> Database:
        if id(database) not in self._databases:
            self._databases[id(database)] = sender_database(database)
        return self._databases[id(database)]

    def send_due(self, database: Database, now: datetime | None = None) -> int:
        """One turn; returns how many deliveries it finished (sent, given up, cancelled).

        `now` is the clock the turn goes by (a test jumps to the evening digest with it).
        """
        now = now or datetime.now(UTC)
        database = self._own(database)
        self.give_up_unconfirmed(database, now)
        self.measure_lateness(database, now)
        finished, tried = 0, set[str]()
        while len(tried) < self.config.batch_size:
            settled, prepared = self._claim(database, tried, now)
            if not settled and not prepared:
                break
            finished += settled
            finished += sum(self._deliver(database, rendered) for rendered in prepared)
        self._close_transports()
        return finished

    def _close_transports(self) -> None:
        for transport in self.transports.values():
            close = getattr(transport, "close", None)
            if close is not None:
                close()

    def _provider(self, delivery: Delivery) -> str:
        """Which provider carried it: the SMS failover says, e-mail has one."""
        transport = self.transports.get(delivery.channel)
        return getattr(transport, "last_provider", None) or delivery.channel

    def measure_lateness(self, database: Database, now: datetime) -> float:
        """The oldest due delivery's wait, as a gauge: a stuck sender shows here first."""
        with database.transaction() as session:
            oldest = session.scalar(
                select(func.min(Delivery.next_attempt_at)).where(
                    Delivery.status.in_(DUE), Delivery.next_attempt_at <= now
                )
            )
        age = 0.0 if oldest is None else (now - aware(oldest)).total_seconds()
        OLDEST_UNDELIVERED_AGE.set(age)
        return age

    def give_up_unconfirmed(self, database: Database, now: datetime | None = None) -> int:
        """Deliveries left in `sending` by a worker that died mid-send: reported, not resent.
        Those it had only claimed were never handed over: they are simply due again."""
        cutoff = (now or datetime.now(UTC)) - timedelta(seconds=self.config.sending_lease_seconds)
        with database.transaction() as session:
            stuck = session.scalars(
                select(Delivery)
                .where(Delivery.status.in_(("sending", "claimed")), Delivery.sending_since < cutoff)
                .with_for_update(skip_locked=True)
            ).all()
            for delivery in stuck:
                if delivery.status == "claimed":
                    delivery.status, delivery.sending_since = "pending", None
                else:
                    self._give_up(session, delivery, "outcome_unknown")
        return len(stuck)

    def _claim(
        self, database: Database, tried: set[str], now: datetime
    ) -> tuple[int, list[Render]]:
        """Claim a batch of due messages (a digest whole), render them, and commit.

        What cannot go (no contact, an ended agreement, a name not there yet, the SMS
        budget spent) is settled here; the rest is `claimed`, to be marked `sending` one
        message at a time just before it is handed over.
        """
        with database.transaction() as session:
            rows = list(session.scalars(self._due(now, tried).limit(CLAIM_BATCH)))
            rows += self._digest_siblings(session, rows, now, tried)
            tried.update(row.id for row in rows)
            lookups = look_up(session, rows)
            settled, prepared = 0, []
            for group in _messages(rows):
                for delivery in group:
                    delivery.attempts += 1
                if hold_if_over(session, group, self.config, datetime.now(UTC)):
                    continue
                rendered = render_group(group, self.config, lookups)
                settled += self._settle_unsendable(session, group, rendered)
                if isinstance(rendered, Render):
                    self._mark(group, rendered.ids, "claimed")
                    prepared.append(rendered)
            return settled, prepared

    def _settle_unsendable(
        self, session: Session, group: list[Delivery], rendered: Render | Cancel | NotYet
    ) -> int:
        if isinstance(rendered, Cancel):
            return self._settle(session, group, rendered.reason, cancel=not rendered.report)
        if isinstance(rendered, NotYet):
            return sum(self._retry_or_give_up(session, d, str(rendered)) for d in group)
        return len(group) - len(rendered.ids)  # cancelled: their agreement ended

    @staticmethod
    def _mark(group: list[Delivery], ids: list[str], status: str) -> None:
        for delivery in group:
            if delivery.id in ids:
                delivery.status, delivery.sending_since = status, datetime.now(UTC)

    def _digest_siblings(
        self, session: Session, rows: list[Delivery], now: datetime, tried: set[str]
    ) -> list[Delivery]:
        """The rest of each digest in the batch, so that a digest is one message."""
        digests = {
            (r.school_id, r.recipient_id, r.channel)
            for r in rows
            if r.cadence in categories.DIGESTS
        }
        if not digests:
            return []
        taken = tried | {row.id for row in rows}
        candidates = session.scalars(
            self._due(now, taken).where(
                Delivery.recipient_id.in_({recipient for _, recipient, _ in digests}),
                Delivery.cadence.in_(categories.DIGESTS),
            )
        )
        return [d for d in candidates if (d.school_id, d.recipient_id, d.channel) in digests]

    @staticmethod
    def _due(now: datetime, tried: set[str]):  # type: ignore[no-untyped-def]
        query = (
            select(Delivery)
            .where(Delivery.status.in_(DUE), Delivery.next_attempt_at <= now)
            .order_by(Delivery.next_attempt_at, Delivery.id)
            .with_for_update(skip_locked=True)
        )
        return query.where(Delivery.id.not_in(tried)) if tried else query

    def _deliver(self, database: Database, rendered: Render) -> int:
        """Mark it `sending` and commit, hand it over, commit what the provider said."""
        with database.transaction() as session:
            marked = session.execute(
                update(Delivery)
                .where(Delivery.id.in_(rendered.ids), Delivery.status == "claimed")
                .values(status="sending", sending_since=datetime.now(UTC))
            ).rowcount
        if not marked:
            return 0  # taken back meanwhile (a lease ran out): another turn sends it
        return self._send(database, rendered.ids, rendered)

    def _send(self, database: Database, ids: list[str], rendered: Render) -> int:
        channel = rendered.channel
        message = Outgoing(
            ids[0],
            channel,
            rendered.address,
            rendered.subject,
            rendered.body,
            rendered.unsubscribe_url,
        )
        outcome: str | None = None
        try:
            self.transports[channel].send(message)
        except PermanentFailure as refusal:
            outcome = refusal.reason
        except (OSError, smtplib.SMTPException, requests.RequestException) as error:
            with database.transaction() as session:
                group = self._load(session, ids)
                return sum(self._retry_or_give_up(session, d, type(error).__name__) for d in group)
        with database.transaction() as session:
            if outcome is not None:
                return self._settle(session, self._load(session, ids), outcome, cancel=False)
            self._sent(session, ids, channel)
        log.info("delivery sent", extra={"delivery_id": ids[0], "channel": channel})
        return len(ids)

    def _sent(self, session: Session, ids: list[str], channel: str) -> None:
        """One statement, as `_finish` would do it row by row: the common case, kept cheap."""
        transport = self.transports.get(channel)
        provider = getattr(transport, "last_provider", None) or channel
        session.execute(
            update(Delivery)
            .where(Delivery.id.in_(ids))
            .values(
                status="sent",
                finished_at=datetime.now(UTC),
                sending_since=None,
                address=None,
                subject=None,
                body=None,
                details={},  # news facts (a mark, a teacher's words) leave with it
                provider=provider,
                provider_ref=getattr(transport, "last_ref", None),
            )
        )
        DELIVERIES_FINISHED.labels(channel, provider, "sent").inc(len(ids))

    @staticmethod
    def _load(session: Session, ids: list[str]) -> list[Delivery]:
        return list(session.scalars(select(Delivery).where(Delivery.id.in_(ids))))

    def _settle(self, session: Session, group: list[Delivery], reason: str, cancel: bool) -> int:
        for delivery in group:
            if cancel:
                self._finish(delivery, "cancelled")
                delivery.last_error = reason
            else:
                self._give_up(session, delivery, reason)
        return len(group)

    def _retry_or_give_up(self, session: Session, delivery: Delivery, error: str) -> bool:
        if delivery.attempts >= self.config.max_attempts:
            self._give_up(session, delivery, "provider_error")
            return True
        delay = self.config.first_retry_seconds * 2 ** (delivery.attempts - 1)
        delivery.status, delivery.sending_since = "pending", None
        delivery.next_attempt_at = datetime.now(UTC) + timedelta(seconds=delay)
        delivery.last_error = error
        log.warning(
            "delivery failed; will retry",
            extra={"delivery_id": delivery.id, "attempt": delivery.attempts, "error": error},
        )
        return False

    def _give_up(self, session: Session, delivery: Delivery, reason: str) -> None:
        self._finish(delivery, "failed")
        delivery.last_error = reason
        reported = reason if reason in EVENT_REASONS else "provider_error"
        publish(session, delivery_failed_event(delivery, reported, delivery.finished_at))
        log.warning("delivery given up", extra={"delivery_id": delivery.id, "reason": reason})

    def _finish(self, delivery: Delivery, status: str) -> None:
        DELIVERIES_FINISHED.labels(delivery.channel, self._provider(delivery), status).inc()
        delivery.status = status
        delivery.finished_at = datetime.now(UTC)
        delivery.sending_since = None
        delivery.address = None
        delivery.subject = None
        delivery.body = None
        delivery.details = {}  # news facts (a mark, a teacher's words) leave with it


def _messages(rows: list[Delivery]) -> list[list[Delivery]]:
    """The batch as messages: each digest's items together, every other delivery alone."""
    digests: dict[tuple[str, str, str], list[Delivery]] = {}
    alone: list[list[Delivery]] = []
    for row in rows:
        if row.cadence in categories.DIGESTS and row.category is not None:
            digests.setdefault((row.school_id, row.recipient_id, row.channel), []).append(row)
        else:
            alone.append([row])
    return alone + list(digests.values())
