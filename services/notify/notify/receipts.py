"""Delivery receipts: whether an SMS reached the phone, as its provider reports it.

A periodic task of the worker asks SMS.ru's status API (`GET /sms/status`, up to 100 ids a
request) about the SMS it took in the last two days and not yet reported on: delivered
becomes `delivered`; expired or refused becomes `failed` and is published as
`notify.delivery.failed` (`expired`, `rejected`). SMSC.ru's status API wants the phone
number, which notify scrubbed when the SMS left: its SMS stay `sent`.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import requests
from sqlalchemy import select
from sqlalchemy.orm import Session

from notify.config import DeliveryConfig
from notify.metrics import DELIVERIES_FINISHED
from notify.models import Delivery
from notify.notices import delivery_failed_event
from notify.sms import ProviderTrouble, SmsRu, smsru_receipts
from schoolkit.db import Database
from schoolkit.outbox import publish

log = logging.getLogger(__name__)

WINDOW = timedelta(days=2)  # after that a provider no longer answers for a message
BATCH = 100


class ReceiptPoller:
    def __init__(self, config: DeliveryConfig) -> None:
        self.config = config
        self.smsru = SmsRu(config.smsru_api_id or "", config.smsru_url)

    def __call__(self, database: Database) -> None:
        self.poll(database)

    def poll(self, database: Database) -> int:
        """One turn; returns how many deliveries it settled."""
        with database.transaction() as session:
            waiting = list(
                session.scalars(
                    select(Delivery)
                    .where(
                        Delivery.status == "sent",
                        Delivery.provider == "smsru",
                        Delivery.provider_ref.is_not(None),
                        Delivery.finished_at >= datetime.now(UTC) - WINDOW,
                    )
                    .limit(BATCH)
                    .with_for_update(skip_locked=True)
                )
            )
            if not waiting:
                return 0
            try:
                outcomes = smsru_receipts(
                    self.smsru,
                    [d.provider_ref or "" for d in waiting],
                    self.config.sms_timeout_seconds,
                )
            except (ProviderTrouble, requests.RequestException) as trouble:
                log.warning("receipts not fetched", extra={"error": type(trouble).__name__})
                return 0
            return sum(
                self._settle(session, d, outcomes.get(d.provider_ref or "")) for d in waiting
            )

    @staticmethod
    def _settle(session: Session, delivery: Delivery, outcome: str | None) -> int:
        if outcome is None:
            return 0
        if outcome == "delivered":
            delivery.status = "delivered"
        else:
            delivery.status, delivery.last_error = "failed", outcome
            publish(session, delivery_failed_event(delivery, outcome, datetime.now(UTC)))
        DELIVERIES_FINISHED.labels("sms", "smsru", delivery.status).inc()
        return 1
