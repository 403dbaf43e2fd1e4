"""What a guardian can hear about, over which channels, and how often by default (issue 17 §3).

A choice is a cadence per category and channel. What the person has not chosen falls back
to the defaults below; legal notices ignore every choice (R-NTF-3, R-CON-4).
"""

from __future__ import annotations

CHANNELS = ("email", "sms", "push")
CADENCES = ("immediately", "daily", "weekly", "never")
DIGESTS = frozenset({"daily", "weekly"})

MARK = "mark"
FINAL_MARK = "final_mark"
ABSENCE = "absence"
HOMEWORK = "homework"
LESSON_CANCELLED = "lesson_cancelled"
LESSON_MOVED = "lesson_moved"
LESSON_SUBSTITUTED = "lesson_substituted"
CONTROL_TEST = "control_test"
HOLIDAYS = "holidays"
TEACHER_MESSAGE = "teacher_message"
AGREEMENT_TERMINATED = "agreement_terminated"  # the school ended the agreement: legal

CATEGORIES = (
    MARK,
    FINAL_MARK,
    ABSENCE,
    HOMEWORK,
    LESSON_CANCELLED,
    LESSON_MOVED,
    LESSON_SUBSTITUTED,
    CONTROL_TEST,
    HOLIDAYS,
    TEACHER_MESSAGE,
    AGREEMENT_TERMINATED,
)
LEGAL = frozenset({AGREEMENT_TERMINATED})

# The issue names what goes at once; the rest of e-mail waits for the evening digest, so
# a family still hears of homework and holidays without a mail for each.
EMAIL_AT_ONCE = frozenset(
    {MARK, ABSENCE, LESSON_CANCELLED, LESSON_MOVED, LESSON_SUBSTITUTED, TEACHER_MESSAGE}
)
SMS_AT_ONCE = frozenset({ABSENCE, LESSON_CANCELLED})


def default_cadence(category: str, channel: str) -> str:
    if category in LEGAL:
        return "immediately"
    if channel == "email":
        return "immediately" if category in EMAIL_AT_ONCE else "daily"
    if channel == "sms":
        return "immediately" if category in SMS_AT_ONCE else "never"
    return "immediately"  # push: all, once the person has subscribed


def cadence(choices: dict[str, dict[str, str]], category: str, channel: str) -> str:
    """The person's choice, or the default; legal notices always go at once."""
    if category in LEGAL:
        return "immediately"
    return choices.get(category, {}).get(channel) or default_cadence(category, channel)


def all_choices(choices: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
    """Every category and channel, chosen or default: what the API shows."""
    return {
        category: {channel: cadence(choices, category, channel) for channel in CHANNELS}
        for category in CATEGORIES
    }
