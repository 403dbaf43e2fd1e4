"""SMS through Russian providers' own HTTP APIs (SMS.ru, SMSC.ru), one interface, failover.

Each adapter speaks its provider's documented API and sorts every answer into three: sent
(with the provider's id), refused for good (`PermanentFailure`: a number that is not a
number, a text the provider will not carry), or the provider's own trouble
(`ProviderTrouble`: money, keys, limits, an error page, a timeout). On trouble, or an
answer slower than `slow_seconds`, the provider is demoted for `demote_seconds` and the
next takes over, as GOV.UK Notify switches its SMS providers; when every one is in
trouble the delivery is retried later like any other failure.

Cyrillic needs UCS-2: 70 characters in one part, 67 in each part of a longer message.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import requests

from notify.config import DeliveryConfig
from notify.transport import Outgoing, PermanentFailure

log = logging.getLogger(__name__)

GSM7 = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENDED = set("^{}\\[~]|€")  # two septets each


def sms_parts(text: str) -> int:
    """How many SMS parts a text takes: GSM-7 160/153, otherwise UCS-2 70/67."""
    if all(ch in GSM7 or ch in GSM7_EXTENDED for ch in text):
        septets = sum(2 if ch in GSM7_EXTENDED else 1 for ch in text)
        return 1 if septets <= 160 else math.ceil(septets / 153)
    units = len(text.encode("utf-16-le")) // 2  # UCS-2 code units (a surrogate pair: 2)
    return 1 if units <= 70 else math.ceil(units / 67)


def one_part(text: str) -> str:
    """The text cut to one part with an ellipsis: everyday SMS never costs two."""
    if sms_parts(text) == 1:
        return text
    cut = text
    while sms_parts(cut + "…") > 1:
        cut = cut[:-1]
    return cut.rstrip() + "…"


class ProviderTrouble(Exception):
    """The provider cannot take messages now: try the next one."""


class SmsProvider(Protocol):
    name: str

    def send(self, phone: str, text: str, message_id: str, timeout: float) -> str:
        """Hand the message over; the provider's id for it."""
        ...


def _digits(phone: str) -> str:
    return "".join(ch for ch in phone if ch.isdigit())


def _json(response: requests.Response) -> dict:  # type: ignore[type-arg]
    if response.status_code >= 500:
        raise ProviderTrouble(f"http_{response.status_code}")
    try:
        body = response.json()
    except ValueError as error:
        raise ProviderTrouble("not_json") from error
    if not isinstance(body, dict):
        raise ProviderTrouble("not_json")
    return body


# SMS.ru's per-number codes that put the number at fault, not the provider: 202 a number
# it cannot route, 207 a number it may not send to, 209 a number on the stop list.
SMSRU_REFUSED = {202: "invalid_address", 207: "rejected", 209: "rejected"}
# SMSC.ru's error_code 7: the number's format; 6: the text or sender is forbidden; 8: the
# number cannot be reached. The rest (1–5, 9) are the account's or the request rate's.
SMSC_REFUSED = {7: "invalid_address", 6: "rejected", 8: "rejected"}


@dataclass
class SmsRu:
    """https://sms.ru/api/send: POST /sms/send with api_id, to, msg, json=1."""

    api_id: str
    base_url: str = "https://sms.ru"
    name: str = "smsru"

    def send(self, phone: str, text: str, message_id: str, timeout: float) -> str:
        number = _digits(phone)
        response = requests.post(
            f"{self.base_url}/sms/send",
            data={"api_id": self.api_id, "to": number, "msg": text, "json": 1},
            timeout=timeout,
        )
        body = _json(response)
        if body.get("status") != "OK":
            raise ProviderTrouble(f"smsru_{body.get('status_code')}")
        answer = (body.get("sms") or {}).get(number) or {}
        if answer.get("status") == "OK" and answer.get("sms_id"):
            return str(answer["sms_id"])
        code = int(answer.get("status_code") or 0)
        if code in SMSRU_REFUSED:
            raise PermanentFailure(SMSRU_REFUSED[code])
        raise ProviderTrouble(f"smsru_{code}")


# SMS.ru's final codes of /sms/status: 103 delivered; 104 its lifetime ran out; 105–108 and
# 150 refused or lost by the operator. Anything else is not final yet.
SMSRU_FINAL = {103: "delivered", 104: "expired", 105: "rejected", 106: "rejected"}
SMSRU_FINAL |= {107: "rejected", 108: "rejected", 150: "rejected"}


def smsru_receipts(provider: SmsRu, references: list[str], timeout: float) -> dict[str, str]:
    """The final outcome of each message SMS.ru knows one of (GET /sms/status, json=1)."""
    response = requests.get(
        f"{provider.base_url}/sms/status",
        params={"api_id": provider.api_id, "sms_id": ",".join(references), "json": 1},
        timeout=timeout,
    )
    body = _json(response)
    if body.get("status") != "OK":
        raise ProviderTrouble(f"smsru_{body.get('status_code')}")
    outcomes = {}
    for reference, answer in (body.get("sms") or {}).items():
        final = SMSRU_FINAL.get(int((answer or {}).get("status_code") or 0))
        if final is not None:
            outcomes[str(reference)] = final
    return outcomes


@dataclass
class Smsc:
    """https://smsc.ru/api/http/: /sys/send.php with login, psw, phones, mes, id, fmt=3."""

    login: str
    password: str
    base_url: str = "https://smsc.ru"
    name: str = "smsc"

    def send(self, phone: str, text: str, message_id: str, timeout: float) -> str:
        response = requests.post(
            f"{self.base_url}/sys/send.php",
            data={
                "login": self.login,
                "psw": self.password,
                "phones": _digits(phone),
                "mes": text,
                "id": message_id,
                "charset": "utf-8",
                "fmt": 3,
            },
            timeout=timeout,
        )
        body = _json(response)
        if "error_code" in body or "error" in body:
            code = int(body.get("error_code") or 0)
            if code in SMSC_REFUSED:
                raise PermanentFailure(SMSC_REFUSED[code])
            raise ProviderTrouble(f"smsc_{code}")
        return str(body.get("id", message_id))


@dataclass
class FailoverSms:
    """The SMS transport: the first provider in good standing takes the message."""

    providers: Sequence[SmsProvider]
    timeout_seconds: float = 5.0
    slow_seconds: float = 2.0
    demote_seconds: float = 60.0
    clock: Callable[[], float] = time.monotonic
    demoted_until: dict[str, float] = field(default_factory=dict)
    last_provider: str | None = None
    last_ref: str | None = None

    def send(self, message: Outgoing) -> None:
        text = message.body if not message.subject else f"{message.subject}. {message.body}"
        for provider in self._in_order():
            started = self.clock()
            try:
                reference = provider.send(message.address, text, message.id, self.timeout_seconds)
            except (ProviderTrouble, requests.RequestException) as trouble:
                self._demote(provider, type(trouble).__name__)
                continue
            if self.clock() - started > self.slow_seconds:
                self._demote(provider, "slow")  # it delivered; the next message goes elsewhere
            self.last_provider, self.last_ref = provider.name, reference
            return
        raise requests.ConnectionError("every SMS provider is in trouble")

    def _in_order(self) -> list[SmsProvider]:
        """Providers in good standing first, in configured order; the demoted after them,
        soonest back first, so that a message is still tried when all are demoted."""
        now = self.clock()
        good = [p for p in self.providers if self.demoted_until.get(p.name, 0.0) <= now]
        demoted = sorted(
            (p for p in self.providers if p not in good),
            key=lambda p: self.demoted_until[p.name],
        )
        return good + demoted

    def _demote(self, provider: SmsProvider, why: str) -> None:
        self.demoted_until[provider.name] = self.clock() + self.demote_seconds
        log.warning("sms provider demoted", extra={"provider": provider.name, "why": why})


def build_sms_transport(config: DeliveryConfig) -> FailoverSms | None:
    """The configured providers in order (`NOTIFY_SMS_PROVIDERS=smsru,smsc`); None without."""
    makers: dict[str, Callable[[], SmsProvider]] = {
        "smsru": lambda: SmsRu(config.smsru_api_id or "", config.smsru_url),
        "smsc": lambda: Smsc(config.smsc_login or "", config.smsc_password or "", config.smsc_url),
    }
    unknown = [name for name in config.sms_providers if name not in makers]
    if unknown:
        raise ValueError(f"unknown SMS providers: {', '.join(unknown)}")
    if not config.sms_providers:
        return None
    return FailoverSms(
        [makers[name]() for name in config.sms_providers],
        timeout_seconds=config.sms_timeout_seconds,
        slow_seconds=config.sms_slow_seconds,
        demote_seconds=config.sms_demote_seconds,
    )
