"""The act of destruction (R-PD-4) in the content Roskomnadzor order No. 179 of 28.10.2022
requires: operator, whose data, categories, information systems, method, reason, date,
who is responsible — with the extract of the erasure's event log. As JSON and as PDF.

The person is named by their opaque id: the act must not become a new copy of the data
it proves destroyed; the school matches the id to its paper file.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from consent.coordinator import duration_text, late_by
from consent.models import Erasure, ErasureLogEntry, ErasureParticipant
from consent.purges import NOT_YET, method_per_participant
from consent.settings import ErasureSettings
from schoolkit.events import iso_utc
from schoolkit.pdf import heading, new_document, paragraph, table, to_bytes

SYSTEMS = {
    "identity": "Учётные записи и доступ (identity)",
    "journal": "Электронный журнал (journal)",
    "diary": "Электронный дневник (diary)",
    "notify": "Уведомления по e-mail и SMS (notify)",
    "archive": "Архив и резервные копии (archive)",
    "consent": "Реестр согласий (consent)",
}
REASONS = {
    "consent_revoked": "отзыв согласия на обработку персональных данных (ст. 21 ч. 5 152-ФЗ)",
    "agreement_terminated": "расторжение договора об услуге «Электронный дневник»",
    "student_left": "достижение цели обработки: выбытие обучающегося (ст. 21 ч. 4 152-ФЗ)",
}
METHOD = (
    "удаление записей из баз данных информационных систем с физической очисткой их файлов "
    "(способ по каждой системе — ниже); в резервных копиях — уничтожение ключа шифрования "
    "субъекта (криптографическое стирание)"
)


def act_of(session: Session, erasure: Erasure, settings: ErasureSettings) -> dict[str, Any]:
    parts = session.scalars(
        select(ErasureParticipant)
        .where(ErasureParticipant.erasure_id == erasure.id)
        .order_by(ErasureParticipant.participant)
    ).all()
    entries = session.scalars(
        select(ErasureLogEntry)
        .where(ErasureLogEntry.erasure_id == erasure.id)
        .order_by(ErasureLogEntry.id)
    ).all()
    overrun = late_by(erasure, datetime.now(UTC))
    requested = next((e for e in entries if e.what == "requested"), None)
    purged = method_per_participant(entries)
    return {
        "erasure_id": erasure.id,
        "operator": settings.operator,
        "school_id": erasure.school_id,
        "subjects": erasure.subjects,
        "reason": erasure.reason,
        "reason_text": REASONS[erasure.reason],
        "categories": erasure.categories,
        "retained": erasure.retain,
        "systems": [
            {
                "participant": part.participant,
                "system": SYSTEMS.get(part.participant, part.participant),
                "counts": part.counts,
                "retained": part.retained,
                "confirmed_at": iso_utc(part.confirmed_at) if part.confirmed_at else None,
                # What the participant did to its database files (schoolkit.housekeeping).
                "method": purged.get(part.participant, {}).get("method", NOT_YET),
                "purged_at": purged.get(part.participant, {}).get("purged_at"),
            }
            for part in parts
        ],
        "method": METHOD,
        "received_at": iso_utc(erasure.received_at),
        "deadline": iso_utc(erasure.deadline),
        "destroyed_at": iso_utc(erasure.finished_at) if erasure.finished_at else None,
        "status": erasure.status,
        # R-PD-2: a missed legal term is stated in the act, not left for the reader to compute.
        "deadline_missed": overrun is not None,
        "late_by_seconds": int(overrun.total_seconds()) if overrun else 0,
        "late_by": duration_text(overrun) if overrun else None,
        "registered_by": requested.details.get("registered_by") if requested else None,
        "responsible": settings.responsible,
        "log": [
            {
                "at": iso_utc(e.at),
                "what": e.what,
                "participant": e.participant,
                "event_id": e.event_id,
                "details": e.details,
            }
            for e in entries
        ],
    }


def act_pdf(act: dict[str, Any]) -> bytes:
    document = new_document(f"Акт об уничтожении персональных данных {act['erasure_id']}")
    heading(document, "АКТ\nоб уничтожении персональных данных")
    paragraph(document, f"Оператор: {act['operator']} ({act['school_id']}).")
    subjects = "; ".join(f"{s['kind']} {s['subject_id']}" for s in act["subjects"])
    paragraph(document, f"Субъекты персональных данных (идентификаторы): {subjects}.")
    paragraph(
        document,
        f"Основание: {act['reason_text']}. Поступило: {act['received_at']}; срок: {act['deadline']}.",
    )
    paragraph(document, f"Уничтожены категории: {', '.join(act['categories'])}.")
    for kept in act["retained"]:
        paragraph(
            document,
            f"Сохраняется: {kept['category']} — {kept['basis']}, до {kept.get('until', '—')}.",
        )
    paragraph(document, f"Способ уничтожения: {act['method']}.")
    rows = [["Информационная система", "Уничтожено записей", "Подтверждено"]]
    for system in act["systems"]:
        counts = ", ".join(f"{k}: {v}" for k, v in sorted(system["counts"].items())) or "—"
        rows.append([system["system"], counts, system["confirmed_at"] or "нет"])
    table(document, rows, (60, 75, 40))
    for system in act["systems"]:
        paragraph(document, f"{system['system']}: {system['method']}.")
    paragraph(document, f"Дата уничтожения: {act['destroyed_at'] or 'не завершено'}.")
    if act["deadline_missed"]:
        paragraph(
            document,
            f"СРОК УНИЧТОЖЕНИЯ НАРУШЕН: уничтожено позже срока на {act['late_by']}.",
        )
    if act["registered_by"]:
        paragraph(
            document,
            f"Основание зарегистрировал сотрудник (идентификатор): {act['registered_by']}.",
        )
    paragraph(document, f"Ответственный: {act['responsible']}  ____________ (подпись)")
    heading(document, "Выгрузка из журнала событий", size=11)
    log_rows = [["Время", "Событие", "Участник"]]
    log_rows += [[e["at"], e["what"], e["participant"] or ""] for e in act["log"]]
    table(document, log_rows, (60, 60, 55))
    return to_bytes(document)
