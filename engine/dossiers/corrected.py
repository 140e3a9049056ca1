"""The school's corrections laid over the family's answers (``Dossier.corrections``).

A corrected value is stored under its field's id and wins over the family's answer and the
import. A value inside a row of a repeat (a guardian's phone in row 2) is stored twice: the
repeat's rows as the school now reads them, under the repeat's id, so every reader (diff,
tables, SIECLE return) takes them like any corrected value; and the corrected cell alone,
under its location (``repeat/row key/child``, :func:`engine.dossiers.campaigns.location`,
never a field id), so the family's next different answer replaces that cell only, and the
pages mark it. Field ids never hold a ``/``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.campaign.model import Campaign, FieldSpec
from engine.fields.repeat import ROW_KEY

#: the separator of a cell's location; never in a field id
SEPARATOR = "/"


def cell_key(repeat_id: str, row_key: str, child_id: str) -> str:
    """The key of a corrected cell (the same as ``location(child, row_key)``)."""
    return f"{repeat_id}{SEPARATOR}{row_key}{SEPARATOR}{child_id}"


def split_cell(key: str) -> tuple[str, str, str] | None:
    """(repeat id, row key, child id) of a cell's key; None for a field id. A row key may
    itself hold the separator (an imported identity is any text)."""
    if key.count(SEPARATOR) < 2:
        return None
    repeat_id, rest = key.split(SEPARATOR, 1)
    row_key, child_id = rest.rsplit(SEPARATOR, 1)
    return repeat_id, row_key, child_id


def corrected_answers(answers: Mapping[str, Any], corrections: Mapping[str, Any],
                      ) -> dict[str, Any]:
    """The answers with the school's corrections over them (a corrected cell is already in
    its repeat's corrected rows)."""
    return {**answers, **{k: v for k, v in corrections.items() if SEPARATOR not in k}}


def corrected_cells(corrections: Mapping[str, Any]) -> frozenset[tuple[str, str, str]]:
    """(repeat id, row key, child id) of every corrected cell, for the pages that mark them."""
    return frozenset(c for k in corrections if (c := split_cell(k)) is not None)


def row_of(rows: Any, row_key: str) -> Mapping[str, Any] | None:
    """The row of ``rows`` (a repeat's value) whose key is ``row_key``."""
    if not isinstance(rows, list):
        return None
    return next((r for r in rows if isinstance(r, Mapping) and str(r.get(ROW_KEY)) == row_key),
                None)


def with_cell(rows: list[Any], row_key: str, child_id: str, value: Any) -> list[Any]:
    """A copy of ``rows`` with the value of ``child_id`` in the row ``row_key`` replaced."""
    return [{**r, child_id: value} if isinstance(r, Mapping) and str(r.get(ROW_KEY)) == row_key
            else r for r in rows]


def answered_rows(campaign: Campaign, corrections: Mapping[str, Any], repeat_id: str,
                  rows: Any) -> dict[str, Any]:
    """What the family posting ``rows`` for the repeat ``repeat_id`` leaves of the school's
    corrections. A corrected cell the family left as it is stays corrected (and keeps its
    author); one it changed, or whose row it removed, is the family's from now on. The
    repeat's corrected rows become the family's rows with the cells still corrected (not rows
    at all: nothing of the repeat stays corrected)."""
    prefix = f"{repeat_id}{SEPARATOR}"
    out = {k: v for k, v in corrections.items() if k != repeat_id and not k.startswith(prefix)}
    kept = False
    for key, value in corrections.items():
        cell = split_cell(key) if key.startswith(prefix) else None
        if cell is None:
            continue
        child = campaign.fields.get(f"{repeat_id}.{cell[2]}")
        posted = row_of(rows, cell[1])
        if child is not None and posted is not None and \
                child.type.same(value, posted.get(child.id), child):
            rows = with_cell(rows, cell[1], cell[2], value)
            out[key], kept = value, True
    if kept:
        out[repeat_id] = rows
    return out


def has_cells(corrections: Mapping[str, Any], repeat_id: str) -> bool:
    """Whether the school corrected cells of the repeat ``repeat_id``."""
    prefix = f"{repeat_id}{SEPARATOR}"
    return any(k.startswith(prefix) for k in corrections)


def cell_spec(campaign: Campaign, key: str) -> tuple[FieldSpec, str] | None:
    """(the child field, the row key) a cell's key names, if the campaign has that field in
    a repeat."""
    cell = split_cell(key)
    if cell is None:
        return None
    spec = campaign.fields.get(f"{cell[0]}.{cell[2]}")
    return (spec, cell[1]) if spec is not None and spec.parent_id == cell[0] else None

