"""The roles × permissions table of docs/permissions.md, as data the rules tests walk.

Each app's ``tests/<app>/test_rules.py`` holds its rows as a markdown table (the same rows as the
document) and calls the checks below: the rows are the document's, they cover every permission
the app registers, and every role gets exactly the ✓ and ✗ of its column.
"""

from __future__ import annotations

from pathlib import Path

import rules
from django.contrib.auth.models import AnonymousUser

ROLES = (
    "superuser",
    "department_admin",
    "department_staff",
    "department_viewer",
    "other_department_staff",
    "partner_admin",
    "partner_staff",
    "other_partner_admin",
    "citizen",
    "anonymous",
)

# The column titles of those roles in docs/permissions.md.
COLUMN_TITLES = (
    "superuser",
    "dept admin",
    "dept staff",
    "dept viewer",
    "other dept staff",
    "partner admin",
    "partner staff",
    "other partner admin",
    "citizen",
    "anonymous",
)

DOC = Path(__file__).resolve().parents[1] / "docs" / "permissions.md"

Row = tuple[str, str, tuple[bool, ...]]


def parse_table(text: str, app: str) -> list[Row]:
    """The rows of a roles × permissions markdown table whose permission belongs to ``app``."""
    rows = []
    for line in text.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) != 2 + len(ROLES) or not cells[0].startswith("`"):
            continue
        permission = cells[0].strip("`")
        if permission != app and not permission.startswith(f"{app}."):
            continue
        marks = cells[2:]
        assert all(mark[:1] in {"✓", "✗"} for mark in marks), line
        rows.append((permission, cells[1], tuple(mark.startswith("✓") for mark in marks)))
    return rows


def actor(request, role: str):
    """The user of a role, from the fixtures in tests/conftest.py."""
    if role == "anonymous":
        return AnonymousUser()
    return request.getfixturevalue(role)


def assert_rows_are_the_documents(app: str, rows: list[Row]) -> None:
    text = DOC.read_text(encoding="utf-8")
    header = next(line for line in text.splitlines() if line.startswith("| permission | object |"))
    titles = [cell.strip() for cell in header.strip().strip("|").split("|")]
    assert titles == ["permission", "object", *COLUMN_TITLES]
    assert parse_table(text, app) == rows


def assert_rows_cover_registered_permissions(app: str, rows: list[Row]) -> None:
    registered = {
        name for name in rules.permissions.permissions if name == app or name.startswith(f"{app}.")
    }
    assert {permission for permission, _, _ in rows} == registered


def assert_role_matches_its_column(request, role: str, rows: list[Row], objects: dict) -> None:
    user = actor(request, role)
    column = ROLES.index(role)
    wrong = [
        f"{permission} on {label}: expected {'✓' if marks[column] else '✗'}"
        for permission, label, marks in rows
        if user.has_perm(permission, objects[label]) is not marks[column]
    ]
    assert not wrong, f"{role}:\n" + "\n".join(wrong)
