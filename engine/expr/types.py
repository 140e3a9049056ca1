"""Static types of the expression language."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Type:
    """A value type: ``kind`` is str, number, bool, date, null, any or list (with ``item``)."""

    kind: str
    item: Type | None = None

    def __str__(self) -> str:
        if self.kind == "list":
            return f"list of {self.item}"
        return {"str": "text", "number": "a number", "bool": "true/false", "date": "a date",
                "null": "null", "any": "any value"}.get(self.kind, self.kind)

    @property
    def is_list(self) -> bool:
        return self.kind == "list"


STR = Type("str")
NUMBER = Type("number")
BOOL = Type("bool")
DATE = Type("date")
NULL = Type("null")
ANY = Type("any")


def list_of(item: Type) -> Type:
    return Type("list", item)


def compatible(a: Type, b: Type) -> bool:
    """True when values of ``a`` and ``b`` may meaningfully be compared for equality."""
    if a.kind in ("any", "null") or b.kind in ("any", "null"):
        return True
    if a.kind == "list" and b.kind == "list":
        assert a.item is not None and b.item is not None
        return compatible(a.item, b.item)
    return a.kind == b.kind


def join(a: Type, b: Type) -> Type:
    """The type of a value that is either ``a`` or ``b`` (for ``x if c else y`` and lists)."""
    if a.kind == "null":
        return b
    if b.kind == "null" or a == b:
        return a
    if a.kind == "list" and b.kind == "list":
        assert a.item is not None and b.item is not None
        return list_of(join(a.item, b.item))
    return ANY
