"""What a family hears of the day at school, and when (issue 17: R-NTF-1, R-NTF-2, R-CON-4)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from notify.config import DeliveryConfig
from notify.models import Agreement, Guardianship, Person, Preference
from notify.sending import Sender
from schoolkit.db import Database
from schoolkit.testing import Mailbox
from schoolkit.times import school_zone

from .events import SCHOOL, contact_changed, erasure_requested, event, guardian_linked, new_id
from .families import School, absence, away_from_now, homework, lesson_changed, mark, news_config
from .test_sending import SmsGateway


@pytest.fixture
def school(notify_database: Database, delivery_config: DeliveryConfig) -> School:
    return School(notify_database, news_config(delivery_config))


@pytest.fixture
def sms_gateway() -> Iterator[SmsGateway]:
    gateway = SmsGateway()
    yield gateway
    gateway.close()


def send(school: School, now: datetime | None = None) -> int:
    return Sender(school.config).send_due(school.database, now)


def test_a_mother_hears_of_her_daughters_new_mark_by_email_naming_her(
    school: School, mailbox: Mailbox
) -> None:
    masha = school.child("Мария", "Иванова")
    school.guardian("mother@example.org", masha)
    school.hear(mark(masha, 5, mark_id=new_id(), teacher=school.teacher))
    assert send(school) == 1
    [message] = mailbox.to("mother@example.org")
    assert message["Subject"] == "Оценка"
    assert "Мария Иванова: оценка 5" in message.get_content()


def test_a_family_without_a_diary_agreement_hears_nothing_of_the_child(
    school: School, mailbox: Mailbox
) -> None:
    masha = school.child("Мария", "Иванова")
    school.guardian("mother@example.org", masha, agreed=False)
    school.hear(mark(masha, 5, mark_id=new_id(), teacher=school.teacher))
    assert school.deliveries() == []


def test_after_the_agreement_ends_the_family_hears_nothing_more(
    school: School, mailbox: Mailbox
) -> None:
    masha = school.child("Мария", "Иванова")
    mother = school.guardian("mother@example.org", masha)
    school.terminate(mother, masha, by="guardian", effective=datetime.now(UTC))
    school.hear(mark(masha, 5, mark_id=new_id(), teacher=school.teacher))
    assert school.deliveries() == []  # and her own termination needs no notice to her


def test_a_teacher_who_is_also_the_mother_does_not_hear_of_the_mark_she_set(
    school: School,
) -> None:
    masha = school.child("Мария", "Иванова")
    mother = school.guardian("teacher-mother@example.org", masha)
    school.hear(mark(masha, 5, mark_id=new_id(), teacher=mother))
    assert school.deliveries() == []


def test_a_mark_changed_three_times_in_five_minutes_is_one_message_with_its_final_value(
    school: School, mailbox: Mailbox
) -> None:
    school.config = replace(school.config, mark_settle_seconds=300.0)
    masha = school.child("Мария", "Иванова")
    school.guardian("mother@example.org", masha)
    mark_id = new_id()
    school.hear(mark(masha, 3, mark_id=mark_id, teacher=school.teacher))
    for version, value in ((2, 4), (3, 2), (4, 5)):
        school.hear(
            mark(
                masha,
                value,
                mark_id=mark_id,
                teacher=school.teacher,
                version=version,
                change="corrected",
            )
        )
    [waiting] = school.deliveries()
    assert waiting.status == "created"
    assert send(school) == 0  # still settling
    assert send(school, datetime.now(UTC) + timedelta(minutes=6)) == 1
    [message] = mailbox.to("mother@example.org")
    assert "оценка 5" in message.get_content()


def test_a_mark_removed_before_its_message_left_sends_nothing(
    school: School, mailbox: Mailbox
) -> None:
    school.config = replace(school.config, mark_settle_seconds=300.0)
    masha = school.child("Мария", "Иванова")
    school.guardian("mother@example.org", masha)
    mark_id = new_id()
    school.hear(
        mark(masha, 2, mark_id=mark_id, teacher=school.teacher),
        mark(masha, 2, mark_id=mark_id, teacher=school.teacher, version=2, change="removed"),
    )
    assert send(school, datetime.now(UTC) + timedelta(minutes=6)) == 0
    assert mailbox.to("mother@example.org") == []
    [cancelled] = school.deliveries()
    assert cancelled.status == "cancelled"


def test_a_mark_corrected_after_the_mother_was_told_is_told_as_a_correction(
    school: School, mailbox: Mailbox
) -> None:
    masha = school.child("Мария", "Иванова")
    school.guardian("mother@example.org", masha)
    mark_id = new_id()
    school.hear(mark(masha, 3, mark_id=mark_id, teacher=school.teacher))
    send(school)
    school.hear(
        mark(masha, 4, mark_id=mark_id, teacher=school.teacher, version=2, change="corrected")
    )
    send(school)
    _first, second = mailbox.to("mother@example.org")
    assert "исправлена на 4" in second.get_content()


def test_quiet_hours_hold_an_absence_until_morning_as_a_created_delivery(
    school: School, mailbox: Mailbox
) -> None:
    quiet_from, quiet_until = away_from_now(0)  # the quiet hours are now
    school.config = replace(school.config, quiet_from=quiet_from, quiet_until=quiet_until)
    masha = school.child("Мария", "Иванова")
    school.guardian("mother@example.org", masha)
    school.hear(absence(masha))
    [held] = school.deliveries()
    assert held.status == "created"
    planned = held.next_attempt_at.replace(tzinfo=UTC).astimezone(school_zone())
    assert planned.strftime("%H:%M") == quiet_until
    assert send(school) == 0
    assert send(school, planned + timedelta(seconds=1)) == 1
    assert "отсутствие на уроке" in mailbox.to("mother@example.org")[0].get_content()


def test_a_father_of_two_gets_one_evening_digest_of_the_homework_of_both(
    school: School, mailbox: Mailbox
) -> None:
    masha = school.child("Мария", "Иванова")
    other_class = new_id()
    petya = school.child("Пётр", "Иванов", class_id=other_class)
    school.guardian("father@example.org", masha, petya)
    school.hear(
        homework(school.class_id, school.teacher, "§12, задачи 3–7"),
        homework(other_class, school.teacher, "Выучить стихотворение"),
    )
    waiting = school.deliveries()
    assert {d.status for d in waiting} == {"created"}  # homework: the daily digest
    evening = max(d.next_attempt_at for d in waiting).replace(tzinfo=UTC)
    assert evening.astimezone(school_zone()).strftime("%H:%M") == "19:00"
    assert send(school) == 0
    assert send(school, evening + timedelta(seconds=1)) == 2
    [digest] = mailbox.to("father@example.org")
    text = digest.get_content()
    assert digest["Subject"] == "Новости электронного дневника"
    assert "Мария Иванова" in text and "Пётр Иванов" in text


def test_an_item_waiting_for_the_digest_is_not_sent_once_the_agreement_ended(
    school: School, mailbox: Mailbox
) -> None:
    masha = school.child("Мария", "Иванова")
    mother = school.guardian("mother@example.org", masha)
    school.hear(homework(school.class_id, school.teacher, "§12"))
    school.terminate(mother, masha, by="guardian", effective=datetime.now(UTC))
    assert send(school, datetime.now(UTC) + timedelta(days=8)) == 1  # finished: cancelled
    assert mailbox.to("mother@example.org") == []


def test_a_cancelled_lesson_reaches_the_family_by_sms_too(
    school: School, mailbox: Mailbox, sms_gateway: SmsGateway
) -> None:
    school.config = replace(school.config, sms_url=sms_gateway.url)
    masha = school.child("Мария", "Иванова")
    school.guardian("mother@example.org", masha, phone="+79160000001")
    school.hear(lesson_changed(school.class_id, "cancellation", school.teacher))
    assert send(school) == 2
    [sms] = sms_gateway.sent
    assert sms["to"] == "+79160000001"
    assert "Мария Иванова" in sms["text"] and "отменён" in sms["text"]
    assert len(mailbox.to("mother@example.org")) == 1


def test_a_substitution_goes_by_email_only_by_default(
    school: School, sms_gateway: SmsGateway
) -> None:
    school.config = replace(school.config, sms_url=sms_gateway.url)
    masha = school.child("Мария", "Иванова")
    school.guardian("mother@example.org", masha, phone="+79160000001")
    school.hear(lesson_changed(school.class_id, "substitution", new_id()))
    assert [d.channel for d in school.deliveries()] == ["email"]


def test_a_mother_who_wants_no_mark_emails_hears_of_no_mark(school: School) -> None:
    masha = school.child("Мария", "Иванова")
    mother = school.guardian("mother@example.org", masha)
    with school.database.transaction() as session:
        session.add(
            Preference(
                person_id=mother,
                school_id=SCHOOL,
                email=True,
                sms=True,
                choices={"mark": {"email": "never"}},
            )
        )
    school.hear(mark(masha, 5, mark_id=new_id(), teacher=school.teacher))
    assert school.deliveries() == []


def test_the_schools_termination_is_told_at_once_whatever_was_chosen_even_at_night(
    school: School, mailbox: Mailbox
) -> None:
    quiet_from, quiet_until = away_from_now(0)
    school.config = replace(school.config, quiet_from=quiet_from, quiet_until=quiet_until)
    masha = school.child("Мария", "Иванова")
    mother = school.guardian("mother@example.org", masha)
    with school.database.transaction() as session:
        session.add(Preference(person_id=mother, school_id=SCHOOL, email=False, sms=False))
    school.terminate(mother, masha, by="school", effective=datetime.now(UTC) + timedelta(days=14))
    assert send(school) == 1
    [notice] = mailbox.to("mother@example.org")
    assert notice["Subject"] == "Расторжение соглашения об электронном дневнике"
    assert "Мария Иванова" in notice.get_content()


def test_holidays_are_news_once_and_an_unchanged_calendar_is_not(
    school: School, mailbox: Mailbox
) -> None:
    masha = school.child("Мария", "Иванова")
    school.guardian("mother@example.org", masha)
    calendar = event("journal.calendar.changed")
    school.hear(calendar)
    again = event("journal.calendar.changed", entity_version=calendar.data["entity_version"] + 1)
    school.hear(again)
    [holidays] = school.deliveries()
    assert holidays.category == "holidays"


def test_the_child_of_an_erasure_is_news_to_nobody_and_their_name_is_gone(
    school: School,
) -> None:
    masha = school.child("Мария", "Иванова")
    school.guardian("mother@example.org", masha)
    school.hear(erasure_requested(new_id(), [(masha, "student")]))
    school.hear(homework(school.class_id, school.teacher, "§12"))
    assert school.deliveries() == []
    with school.database.transaction() as session:
        assert session.get(Person, masha) is None


def test_a_news_item_waits_for_the_childs_name_rather_than_go_out_unnamed(
    school: School, mailbox: Mailbox
) -> None:
    masha = school.child("Мария", "Иванова")
    school.guardian("mother@example.org", masha)
    nameless = new_id()
    school.hear(
        event(
            "journal.student.enrolled",
            nameless,
            enrolment_id=new_id(),
            student_id=nameless,
            class_id=school.class_id,
            group_ids=[],
            entity_version=1,
        )
    )
    school.guardian("father@example.org", nameless)
    school.hear(lesson_changed(school.class_id, "transfer", school.teacher))
    assert send(school) == 1  # the mother's
    assert mailbox.to("father@example.org") == []
    [waiting] = school.deliveries(status="pending")
    assert (waiting.last_error, waiting.attempts) == ("no_name", 1)


def test_the_mother_of_twins_hears_of_the_homework_of_each(
    school: School, mailbox: Mailbox
) -> None:
    masha = school.child("Мария", "Иванова")
    dasha = school.child("Дарья", "Иванова")
    school.guardian("mother@example.org", masha, dasha)
    school.hear(homework(school.class_id, school.teacher, "§12"))
    assert {d.student_id for d in school.deliveries()} == {masha, dasha}


def test_an_english_speaking_father_reads_his_news_in_english(
    school: School, mailbox: Mailbox
) -> None:
    masha = school.child("Maria", "Ivanova")
    father = new_id()
    school.hear(contact_changed(father, "father@example.org", language="en"))
    school.hear(guardian_linked(father, masha))
    school.conclude(father, masha)
    school.hear(lesson_changed(school.class_id, "cancellation", school.teacher))
    send(school)
    [message] = mailbox.to("father@example.org")
    assert message["Subject"] == "Lesson cancelled"
    assert "Maria Ivanova: the lesson on" in message.get_content()


def test_news_waiting_about_a_child_is_erased_with_the_child(school: School) -> None:
    masha = school.child("Мария", "Иванова")
    school.guardian("mother@example.org", masha)
    school.hear(homework(school.class_id, school.teacher, "§12"))  # waits for the digest
    assert len(school.deliveries()) == 1
    school.hear(erasure_requested(new_id(), [(masha, "student")]))
    assert school.deliveries() == []


def test_an_erased_mother_linked_again_by_a_late_event_hears_nothing(school: School) -> None:
    masha = school.child("Мария", "Иванова")
    mother = new_id()
    school.hear(erasure_requested(new_id(), [(mother, "guardian")]))
    school.hear(contact_changed(mother, "mother@example.org"))  # the consumer drops these,
    school.hear(guardian_linked(mother, masha))  # but the link's subject is the child
    school.conclude(mother, masha)
    school.hear(mark(masha, 5, mark_id=new_id(), teacher=school.teacher))
    assert school.deliveries() == []
    with school.database.transaction() as session:
        assert session.scalars(select(Agreement)).all() == []
        assert session.scalars(select(Guardianship)).all() == []


def test_an_absence_marked_present_after_all_is_withdrawn_or_told_as_withdrawn(
    school: School, mailbox: Mailbox
) -> None:
    masha = school.child("Мария", "Иванова")
    school.guardian("mother@example.org", masha)
    waiting, told = new_id(), new_id()
    school.hear(absence(masha, attendance_id=told))
    send(school)
    daytime = school.config
    quiet_from, quiet_until = away_from_now(0)
    school.config = replace(daytime, quiet_from=quiet_from, quiet_until=quiet_until)
    school.hear(absence(masha, attendance_id=waiting))  # held by quiet hours
    school.config = daytime
    for attendance_id in (waiting, told):
        present = absence(masha, status="present", attendance_id=attendance_id)
        present.data["entity_version"] = 2
        school.hear(present)
    statuses = sorted(d.status for d in school.deliveries())
    assert statuses == ["cancelled", "pending", "sent"]
    send(school)
    _first, second = mailbox.to("mother@example.org")
    assert "отметка об отсутствии" in second.get_content()
