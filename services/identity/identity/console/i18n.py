"""The console's words in Russian (the default) and English."""

from __future__ import annotations

from flask import request

LANGUAGES = ("ru", "en")
LANGUAGE_COOKIE = "console_lang"

WORDS: dict[str, dict[str, str]] = {
    "title": {"ru": "Консоль администратора", "en": "Administrator console"},
    "login": {"ru": "Логин", "en": "Login"},
    "password": {"ru": "Пароль", "en": "Password"},
    "sign_in": {"ru": "Войти", "en": "Sign in"},
    "sign_out": {"ru": "Выйти", "en": "Sign out"},
    "bad_login": {
        "ru": "Неверный логин или пароль, или вход временно закрыт.",
        "en": "Wrong login or password, or signing in is closed for a while.",
    },
    "no_console_role": {
        "ru": "Консоль доступна администраторам и классным руководителям.",
        "en": "The console is for administrators and class teachers.",
    },
    "people": {"ru": "Люди", "en": "People"},
    "classes": {"ru": "Классы", "en": "Classes"},
    "import": {"ru": "Импорт", "en": "Import"},
    "audit": {"ru": "Журнал действий", "en": "Audit"},
    "change_password": {"ru": "Сменить пароль", "en": "Change password"},
    "search": {"ru": "Найти", "en": "Search"},
    "last_name_starts": {"ru": "Фамилия начинается с", "en": "Last name starts with"},
    "any_kind": {"ru": "Все", "en": "Everyone"},
    "staff": {"ru": "Сотрудник", "en": "Staff"},
    "guardian": {"ru": "Родитель", "en": "Guardian"},
    "student": {"ru": "Ученик", "en": "Student"},
    "new_person": {"ru": "Добавить человека", "en": "Add a person"},
    "kind": {"ru": "Категория", "en": "Kind"},
    "last_name": {"ru": "Фамилия", "en": "Last name"},
    "first_name": {"ru": "Имя", "en": "First name"},
    "middle_name": {"ru": "Отчество", "en": "Middle name"},
    "birth_date": {"ru": "Дата рождения", "en": "Birth date"},
    "roles": {"ru": "Роли", "en": "Roles"},
    "email": {"ru": "Эл. почта", "en": "E-mail"},
    "phone": {"ru": "Телефон", "en": "Phone"},
    "language": {"ru": "Язык", "en": "Language"},
    "save": {"ru": "Сохранить", "en": "Save"},
    "saved": {"ru": "Сохранено.", "en": "Saved."},
    "account": {"ru": "Учётная запись", "en": "Account"},
    "no_account": {"ru": "Учётной записи нет", "en": "No account"},
    "active": {"ru": "активна", "en": "active"},
    "blocked": {"ru": "заблокирована", "en": "blocked"},
    "block": {"ru": "Заблокировать", "en": "Block"},
    "unblock": {"ru": "Разблокировать", "en": "Unblock"},
    "reason": {"ru": "Причина", "en": "Reason"},
    "suspected_unlawful_use": {
        "ru": "Подозрение на неправомерные действия",
        "en": "Suspected unlawful use",
    },
    "authority_request": {"ru": "Запрос уполномоченного органа", "en": "Authority request"},
    "compromise_reported": {"ru": "Сообщение о компрометации", "en": "Compromise reported"},
    "other": {"ru": "Другое", "en": "Other"},
    "temporary_password": {"ru": "Выдать временный пароль", "en": "Issue a temporary password"},
    "temporary_shown_once": {
        "ru": "Временный пароль (показан один раз, сменить при первом входе):",
        "en": "Temporary password (shown once; to be changed at first sign-in):",
    },
    "guardianships": {"ru": "Родители и дети", "en": "Guardianships"},
    "link_student": {"ru": "Привязать ученика (id)", "en": "Link a student (id)"},
    "link": {"ru": "Привязать", "en": "Link"},
    "unlink": {"ru": "Отвязать", "en": "Unlink"},
    "issue_code": {"ru": "Выдать код регистрации родителю", "en": "Issue a guardian code"},
    "code_shown_once": {
        "ru": "Код регистрации (показан один раз):",
        "en": "Registration code (shown once):",
    },
    "valid_until": {"ru": "действует до", "en": "valid until"},
    "print_slips": {"ru": "Напечатать коды для класса", "en": "Print the class's slips"},
    "class_teacher": {"ru": "Классный руководитель", "en": "Class teacher"},
    "no_classes": {"ru": "Классов пока нет.", "en": "No classes yet."},
    "file": {"ru": "Файл CSV или XLSX", "en": "CSV or XLSX file"},
    "dry_run": {"ru": "Только проверить", "en": "Check only"},
    "upload": {"ru": "Загрузить", "en": "Upload"},
    "row": {"ru": "Строка", "en": "Row"},
    "column": {"ru": "Столбец", "en": "Column"},
    "problem": {"ru": "Ошибка", "en": "Problem"},
    "import_ok_dry": {
        "ru": "Файл без ошибок; ничего не записано.",
        "en": "No problems found; nothing was written.",
    },
    "import_done": {"ru": "Импортировано.", "en": "Imported."},
    "import_bad": {
        "ru": "В файле есть ошибки; ничего не записано.",
        "en": "The file has problems; nothing was written.",
    },
    "when": {"ru": "Когда", "en": "When"},
    "action": {"ru": "Действие", "en": "Action"},
    "actor": {"ru": "Кто", "en": "Actor"},
    "target": {"ru": "С кем", "en": "Target"},
    "outcome": {"ru": "Итог", "en": "Outcome"},
    "address": {"ru": "Адрес", "en": "Address"},
    "current_password": {"ru": "Текущий пароль", "en": "Current password"},
    "new_password": {"ru": "Новый пароль", "en": "New password"},
    "must_change": {
        "ru": "Задайте свой пароль, чтобы продолжить.",
        "en": "Choose your own password to continue.",
    },
    "password_changed": {
        "ru": "Пароль изменён. Войдите с новым паролем.",
        "en": "Password changed. Sign in with the new one.",
    },
    "register_title": {"ru": "Регистрация по коду", "en": "Register with a code"},
    "code": {"ru": "Код из школы", "en": "Code from the school"},
    "register": {"ru": "Зарегистрироваться", "en": "Register"},
    "registered": {
        "ru": "Готово: войдите в дневник с выбранным логином и паролем.",
        "en": "Done: sign in to the diary with the login and password you chose.",
    },
    "forbidden": {"ru": "Нет прав на это действие.", "en": "You may not do this."},
    "not_found": {"ru": "Не найдено.", "en": "Not found."},
    "csrf": {
        "ru": "Форма устарела; откройте страницу заново.",
        "en": "The form has expired; open the page again.",
    },
}


def chosen_language() -> str:
    asked = request.args.get("lang") or request.cookies.get(LANGUAGE_COOKIE)
    if asked in LANGUAGES:
        return asked
    return request.accept_languages.best_match(LANGUAGES, default="ru") or "ru"


def translate(key: str, language: str) -> str:
    return WORDS.get(key, {}).get(language, key)
