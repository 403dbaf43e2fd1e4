"""The texts of the notices, in the recipient's language (Russian unless they chose English).

Texts carry no names: notify holds none, and a message that outlives its purpose in a
mailbox should say as little as possible.
"""

from __future__ import annotations

from dataclasses import dataclass

REASONS = {
    "consent_revoked": {
        "ru": "отзыв согласия на обработку персональных данных",
        "en": "the withdrawal of the consent to processing",
    },
    "agreement_terminated": {
        "ru": "расторжение соглашения об электронном дневнике",
        "en": "the termination of the electronic diary agreement",
    },
    "student_left": {
        "ru": "выбытие обучающегося из школы",
        "en": "the student leaving the school",
    },
}

BLOCK_REASONS = {
    "suspected_unlawful_use": {
        "ru": "подозрение на неправомерные действия",
        "en": "suspected unlawful use",
    },
    "authority_request": {"ru": "запрос уполномоченного органа", "en": "a request of an authority"},
    "compromise_reported": {
        "ru": "ваше сообщение о компрометации учётных данных",
        "en": "your report that your credentials were compromised",
    },
}


@dataclass(frozen=True)
class Message:
    subject: str
    body: str


def _pick(texts: dict[str, str], language: str) -> str:
    return texts.get(language) or texts["ru"]


def data_destroyed(language: str, details: dict[str, str]) -> Message:
    """R-PD-2, R-PD-3: the guardian is told that the data was destroyed, and why."""
    reason = _pick(REASONS.get(details["reason"], REASONS["consent_revoked"]), language)
    day = details["finished_at"][:10]
    if language == "en":
        return Message(
            "Personal data destroyed",
            f"On {day} the school destroyed the personal data it processed in the electronic "
            f"journal and diary, following {reason}.\n"
            f"The act of destruction is kept by the school (reference {details['erasure_id']}); "
            "you may ask the school for a copy.",
        )
    return Message(
        "Уничтожение персональных данных",
        f"{day} школа уничтожила персональные данные, обрабатывавшиеся в электронном журнале "
        f"и дневнике, в связи с основанием: {reason}.\n"
        f"Акт об уничтожении хранится в школе (номер {details['erasure_id']}); "
        "копию можно получить по запросу.",
    )


def account_blocked(language: str, details: dict[str, str]) -> Message:
    """R-IDN-4, R-NTF-3: the user is told that their access was blocked."""
    reason = _pick(BLOCK_REASONS.get(details["reason"], {"ru": "решение школы"}), language)
    if language == "en":
        return Message(
            "Your access has been blocked",
            f"Your access to the electronic diary has been blocked: {reason}. "
            "Please contact the school to have it restored.",
        )
    return Message(
        "Доступ заблокирован",
        f"Ваш доступ к электронному дневнику заблокирован. Причина: {reason}. "
        "Для восстановления доступа обратитесь в школу.",
    )


def account_unblocked(language: str, details: dict[str, str]) -> Message:
    """R-IDN-5: the user is told that access was restored, and how."""
    new_password = details.get("restored_with") == "new_password"
    if language == "en":
        how = " with a new password that the school will hand to you" if new_password else ""
        return Message("Your access has been restored", f"Your access has been restored{how}.")
    how = " с новым паролем, который вам выдаст школа" if new_password else ""
    return Message("Доступ восстановлен", f"Ваш доступ к электронному дневнику восстановлен{how}.")


SESSION_REASONS = {
    "administrator": {
        "ru": "школа выдала вам временный пароль",
        "en": "the school issued you a temporary password",
    },
    "password_changed": {"ru": "пароль изменён", "en": "your password was changed"},
}


def sessions_ended(language: str, details: dict[str, str]) -> Message:
    """R-SEC-3: every sign-in of the user ended; if it was not them, they tell the school."""
    reason = _pick(SESSION_REASONS.get(details["reason"], {"ru": "решение школы"}), language)
    if language == "en":
        return Message(
            "You have been signed out everywhere",
            f"All your sign-ins to the electronic diary have ended: {reason}. "
            "If this was not you, please contact the school at once.",
        )
    return Message(
        "Выполнен выход на всех устройствах",
        f"Все ваши входы в электронный дневник завершены: {reason}. "
        "Если это были не вы, сразу обратитесь в школу.",
    )


TEMPLATES = {
    "data_destroyed": data_destroyed,
    "account_blocked": account_blocked,
    "account_unblocked": account_unblocked,
    "sessions_ended": sessions_ended,
}


def render(notice: str, language: str, details: dict[str, str]) -> Message:
    return TEMPLATES[notice](language, details)
