"""The one exception a route turns into a 4xx: bad input found after parsing, with the fields it names."""

from __future__ import annotations

from typing import Any

Loc = list[str | int]


class RequestRejected(Exception):
    """Carries the HTTP status and, per refused field, its location and why (one entry, or several)."""

    def __init__(self, status: int, loc: Loc, msg: str, *, also: list[tuple[Loc, str]] | None = None) -> None:
        super().__init__(msg)
        self.status = status
        self.loc = loc
        self.msg = msg
        self.errors = [(loc, msg), *(also or [])]

    def detail(self) -> list[dict[str, Any]]:
        return [{"loc": loc, "msg": msg, "type": "value_error"} for loc, msg in self.errors]
