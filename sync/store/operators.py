"""Operators: who may sign in with a badge (``OP:<id>``), under which name and role."""

from __future__ import annotations

from gettext import gettext as _

from sync.clock import utc_now
from sync.store.base import StoreBase
from sync.store.errors import StoreError
from sync.store.records import MAX_OPERATOR_ID, ROLES, Operator

_COLUMNS = "id, name, role, language"  # an Operator's fields, in order


class Operators(StoreBase):
    """Registering operators and checking a supervisor's approval."""

    def add_operator(
        self, operator_id: str, name: str = "", role: str | None = None, language: str | None = None
    ) -> Operator:
        """Register an operator (only registered ones sign in), or change a registered one's name, role or language.

        ``role`` is clerk, inspector or supervisor; None keeps the current one (clerk for a new operator).
        ``language`` is the one the station speaks for them ("zh-CN"; "" the station's); None keeps it.
        """
        operator_id = (operator_id or "").strip()
        if (
            not operator_id
            or len(operator_id) > MAX_OPERATOR_ID
            or any(not ch.isprintable() or ch.isspace() for ch in operator_id)
        ):
            raise StoreError(
                _(
                    "operator id {id!r} must be 1-{most} printable characters without spaces "
                    "(it is the badge's OP:<id>)"
                ).format(id=operator_id[:70], most=MAX_OPERATOR_ID)
            )
        if role is not None and role not in ROLES:
            raise StoreError(_("role {role!r} is not one of {roles}").format(role=role, roles=", ".join(ROLES)))
        with self.write() as conn:
            conn.execute(
                "INSERT INTO operators (id, name, created_at, role, language) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT(id) DO UPDATE SET name = CASE WHEN excluded.name = '' THEN name "
                "ELSE excluded.name END, role = CASE WHEN ? THEN excluded.role ELSE role END, "
                "language = CASE WHEN ? THEN excluded.language ELSE language END",
                (
                    operator_id,
                    name or "",
                    utc_now(),
                    role or "clerk",
                    language or "",
                    role is not None,
                    language is not None,
                ),
            )
            row = conn.execute(f"SELECT {_COLUMNS} FROM operators WHERE id = ?", (operator_id,)).fetchone()
        return Operator(*row)

    def operator(self, operator_id: str) -> Operator | None:
        """The registered operator with this id, or None for an unknown badge."""
        row = self.conn.execute(f"SELECT {_COLUMNS} FROM operators WHERE id = ?", (operator_id,)).fetchone()
        return Operator(*row) if row else None

    def operators(self) -> list[Operator]:
        """Every registered operator, by id."""
        return [Operator(*r) for r in self.conn.execute(f"SELECT {_COLUMNS} FROM operators ORDER BY id")]

    def operator_name(self, operator_id: str) -> str | None:
        """The registered name of an operator, or None for an unknown badge."""
        found = self.operator(operator_id)
        return found.name if found else None

    def _approver(self, approved_by: str) -> str:
        """``approved_by`` checked to be a registered supervisor (raises :class:`StoreError` if not)."""
        found = self.operator(approved_by)
        if found is None:
            raise StoreError(
                _("{operator} is not a registered operator; a supervisor's badge must approve this").format(
                    operator=approved_by
                )
            )
        if found.role != "supervisor":
            article = "an" if found.role[0] in "aeiou" else "a"
            raise StoreError(
                _("{operator} is {article} {role}, not a supervisor; a supervisor's badge must approve this").format(
                    operator=approved_by, article=article, role=found.role
                )
            )
        return found.id
