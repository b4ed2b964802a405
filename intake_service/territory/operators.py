"""Transport operators: the companies that send sheets."""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from intake_service.models import Operator

OPERATOR_CODE = re.compile(r"^[a-z0-9][a-z0-9_-]{1,31}$")


class OperatorError(ValueError):
    """The operator cannot be added as asked; the message says why."""


def find_operator(session: Session, code: str, *, lock: bool = False) -> Operator | None:
    """The operator with this code, or None; ``lock`` holds its row until the commit."""
    query = select(Operator).where(Operator.code == code)
    if lock:
        query = query.with_for_update()
    return session.scalar(query)


def add_operator(
    session: Session, code: str, name: str, *, now: dt.datetime
) -> tuple[Operator, bool]:
    """Add the operator, or update its name if the code exists. Returns (operator, created)."""
    if not OPERATOR_CODE.match(code):
        raise OperatorError(
            f"Invalid operator code {code!r}: 2–32 lowercase letters, digits, '-' or '_' "
            "(e.g. tisseo)."
        )
    if not name.strip():
        raise OperatorError("The operator needs a name (--name).")
    operator = find_operator(session, code)
    if operator is not None:
        operator.name = name
        return operator, False
    operator = Operator(code=code, name=name, created_at=now)
    session.add(operator)
    session.flush()
    return operator, True


def list_operators(session: Session) -> list[Operator]:
    return list(session.scalars(select(Operator).order_by(Operator.code)))
