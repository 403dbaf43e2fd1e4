"""The guardian's copy of the diary-agreement application, with the registration mark."""

from __future__ import annotations

from consent.models import Agreement, Template
from schoolkit.pdf import heading, new_document, paragraph, to_bytes


def application_pdf(agreement: Agreement, template: Template | None) -> bytes:
    document = new_document(f"Заявление {agreement.registration_number}")
    heading(
        document,
        "Заявление о присоединении к Договору\nо предоставлении услуги «Электронный дневник»",
    )
    title = template.title if template else "Договор о предоставлении услуги «Электронный дневник»"
    version = template.version if template else "—"
    paragraph(
        document,
        f"Прошу предоставить мне услугу «Электронный дневник» в отношении обучающегося (идентификатор {agreement.student_id}) на условиях: {title}, редакция {version}.",
    )
    paragraph(
        document,
        f"Заявитель (идентификатор): {agreement.guardian_id}. Дата заявления: {agreement.applied_on.isoformat()}.",
    )
    paragraph(document, "Подпись заявителя: ____________")
    heading(document, "Отметка о регистрации", size=12)
    paragraph(
        document,
        f"Зарегистрировано за № {agreement.registration_number} {agreement.concluded_at:%d.%m.%Y}. Сотрудник (идентификатор): {agreement.registered_by}.",
    )
    paragraph(document, "Подпись ответственного сотрудника: ____________")
    return to_bytes(document)
