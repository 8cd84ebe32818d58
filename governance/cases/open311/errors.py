"""Open311 errors: the spec's ``errors`` list, one entry per problem, with the HTTP status."""

from __future__ import annotations

from collections.abc import Iterable


class Open311Error(Exception):
    """A refusal in the spec's form: ``[{"code": 400, "description": "…"}]``."""

    def __init__(self, code: int, descriptions: str | Iterable[str]):
        self.code = code
        if isinstance(descriptions, str):
            descriptions = [descriptions]
        self.descriptions = list(descriptions) or ["error"]
        super().__init__("; ".join(self.descriptions))

    def as_list(self) -> list[dict]:
        return [{"code": self.code, "description": text} for text in self.descriptions]


def not_found(what: str) -> Open311Error:
    return Open311Error(404, f"{what} not found")
