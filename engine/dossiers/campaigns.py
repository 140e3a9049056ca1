"""From stored dossiers to what the rules engine needs: the context and the effective answers.

The compiled campaign of a stored version comes from :mod:`engine.dossiers.versions`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date
from typing import Any, Final

from engine.campaign.model import Campaign, FieldSpec
from engine.dossiers.family import family_of
from engine.dossiers.guardian_answers import guardian_key_of, own_answers
from engine.dossiers.models import Dossier, DossierData, StoredFile
from engine.fields.repeat import ROW_KEY
from engine.rules import DossierContext
from engine.rules.policy import effective_answers as effective_answers


def context_of(dossier: DossierData, today: date | None = None,
               account_id: int | None = None) -> DossierContext:
    """What expressions see besides the answers: the prefill snapshot, the family, today;
    with ``account_id`` (a guardian reading), that guardian's own per-guardian answers."""
    guardian = guardian_key_of(dossier, account_id)
    return DossierContext(prefill=dict(dossier.prefill), family=family_of(dossier),
                          today=today or date.today(), guardian=guardian,
                          own=own_answers(dossier, guardian))


#: keys of an imported guardian record that are contact details
CONTACT_KEYS: Final = frozenset({"phone_home", "phone_work", "phone_mobile", "email", "address"})


def location(spec: FieldSpec, row_key: str | None = None) -> str:
    """Where a value lives in the answers: ``id``, or ``repeat/row key/child`` in a row (the
    row's key, not its position, so a location survives rows added or removed before it)."""
    return spec.id if spec.parent_id is None else f"{spec.parent_id}/{row_key}/{spec.id}"


@dataclass(frozen=True, slots=True)
class Redaction:
    """What one guardian must not see of a dossier: what belongs to another guardian whose
    contact the school marked confidential (difficult family situations) — their contact
    details, the files they sent, what they reported to the school.

    ``guardians`` are positions in the imported ``guardians`` list; ``row_keys`` the keys of
    the matching rows of repeats prefilled from ``guardians``; ``accounts`` the ids of those
    guardians' accounts; ``owned`` the locations (:func:`location`) of the contact details
    they typed themselves, in whatever row or field.
    """

    guardians: frozenset[int] = frozenset()
    row_keys: frozenset[str] = frozenset()
    accounts: frozenset[str] = frozenset()
    owned: frozenset[str] = frozenset()

    def __bool__(self) -> bool:
        return bool(self.accounts or self.guardians)

    def masked(self, campaign: Campaign, spec: FieldSpec, row_key: str | None) -> bool:
        """Whether the value of ``spec`` in the row ``row_key`` must be hidden from the viewer."""
        if not self or not spec.type.contact_data:
            return False
        if spec.parent_id is not None and row_key in self.row_keys \
                and campaign.fields[spec.parent_id].prefill == ("guardians",):
            return True
        return location(spec, row_key) in self.owned

    def protects_row(self, campaign: Campaign, repeat: FieldSpec, row_key: str) -> bool:
        """The row holds something the viewer may not see: they may not remove it."""
        return row_key in self.row_keys or any(
            self.masked(campaign, child, row_key) for child in repeat.fields)

    def hides_account(self, account_id: object) -> bool:
        """Whether what the account ``account_id`` wrote or sent is kept from the viewer."""
        return account_id is not None and str(account_id) in self.accounts

    def hides_file(self, stored: StoredFile) -> bool:
        """A file the other guardian sent (a proof of address shows where they live): not
        listed, named nor served to the viewer."""
        return self.hides_account(stored.uploaded_by_id)

    def answers(self, campaign: Campaign, answers: Mapping[str, Any]) -> dict[str, Any]:
        """A copy of ``answers`` without the protected contact details."""
        out = dict(answers)
        if not self:
            return out
        for spec in campaign.top_fields():
            rows = out.get(spec.id)
            if not spec.type.is_container:
                if spec.id in out and self.masked(campaign, spec, None):
                    out[spec.id] = None
                continue
            if not isinstance(rows, list):
                continue
            out[spec.id] = [
                {k: (None if (c := _child(spec, k)) is not None
                     and self.masked(campaign, c, str(row.get(ROW_KEY))) else v)
                 for k, v in row.items()} if isinstance(row, Mapping) else row
                for row in rows]
        return out

    def prefill(self, prefill: Mapping[str, Any]) -> dict[str, Any]:
        """A copy of the prefill snapshot without the protected guardians' contact details."""
        out = dict(prefill)
        guardians = out.get("guardians")
        if self and isinstance(guardians, list):
            out["guardians"] = [
                {k: v for k, v in g.items() if k not in CONTACT_KEYS}
                if i in self.guardians and isinstance(g, Mapping) else g
                for i, g in enumerate(guardians)]
        return out

    def context(self, ctx: DossierContext) -> DossierContext:
        return replace(ctx, prefill=self.prefill(ctx.prefill))


def _child(repeat: FieldSpec, child_id: str) -> FieldSpec | None:
    return next((c for c in repeat.fields if c.id == child_id), None)


def redaction_for(dossier: Dossier, account_id: int) -> Redaction:
    """What ``account_id`` must not see: what belongs to every other guardian of the pupil
    whose contact the school marked confidential."""
    hidden = {g.guardian_key: str(g.account_id) for g in dossier.pupil.guardianships
              if g.confidential_contact and g.account_id != account_id}
    if not hidden:
        return Redaction()
    guardians = dossier.prefill.get("guardians")
    positions: set[int] = set()
    row_keys: set[str] = set()
    for i, record in enumerate(guardians if isinstance(guardians, list) else []):
        if not isinstance(record, Mapping):
            continue
        personne_id = str(record.get("personne_id") or "")
        if personne_id in hidden or (not personne_id and str(i + 1) in hidden):
            positions.add(i)
            row_keys.add(personne_id or f"row{i + 1}")
    accounts = frozenset(hidden.values())
    owned = frozenset(where for where, owner in (dossier.contact_owners or {}).items()
                      if owner in accounts)
    return Redaction(frozenset(positions), frozenset(row_keys), accounts, owned)
