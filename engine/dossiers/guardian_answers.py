"""Answers per guardian: the fields with ``scope: per_guardian``, which each legal guardian
answers for themselves under their own login (the attestation both sign, a consent, « je
souhaite recevoir les informations »).

They live in ``Dossier.guardian_answers`` ({field id: {guardian key: {"value", "account",
"at"}}}), never in ``Dossier.answers``, so a reader that does not ask for them never mixes two
guardians' words. A guardian reads their own through the context (``context_of(dossier,
account_id)``: ``ctx.own``, put in place by ``effective_answers``); the school reads every
guardian's through :func:`answers_of`. A field with ``required: all_guardians`` keeps the
dossier from being sent until every guardian holding a login on it has answered
(:func:`waiting_for`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from engine.campaign.model import Campaign, FieldSpec
from engine.db import utcnow
from engine.fields.common import format_date
from engine.i18n import gettext as _

from .models import Dossier, DossierData, Guardianship

#: how a guardian the school protects is named to the other guardian (no name, no date)
OTHER_GUARDIAN = "L'autre responsable légal"


def guardians_of(dossier: DossierData) -> list[Guardianship]:
    """The guardians holding a login on the dossier's pupil, in the imported order (their
    position in the guardians record), then in the order their accounts were linked."""
    imported = dossier.prefill.get("guardians")
    order: dict[str, int] = {}
    for i, record in enumerate(imported if isinstance(imported, list) else []):
        if isinstance(record, Mapping):
            order.setdefault(str(record.get("personne_id") or i + 1), i)
    return sorted(dossier.pupil.guardianships,
                  key=lambda g: (order.get(g.guardian_key, len(order)), g.id))


def guardian_key_of(dossier: DossierData, account_id: int | str | None) -> str | None:
    """The guardian key of the account ``account_id`` for the dossier's pupil (None: not one
    of its guardians)."""
    return next((g.guardian_key for g in dossier.pupil.guardianships
                 if str(g.account_id) == str(account_id)), None) if account_id else None


def own_answers(dossier: DossierData, guardian: str | None) -> dict[str, Any]:
    """The answers the guardian ``guardian`` gave to the per-guardian fields."""
    if guardian is None:
        return {}
    return {field_id: entry["value"] for field_id, by_guardian in
            (dossier.guardian_answers or {}).items()
            if isinstance(by_guardian, Mapping)
            and isinstance(entry := by_guardian.get(guardian), Mapping)}


def split(campaign: Campaign, answers: Mapping[str, Any],
          ) -> tuple[dict[str, Any], dict[str, Any]]:
    """``answers`` as (the dossier's own, the per-guardian ones)."""
    ours = {k: v for k, v in answers.items()
            if (spec := campaign.fields.get(k)) is not None and spec.per_guardian}
    return {k: v for k, v in answers.items() if k not in ours}, ours


def merged(dossier: Dossier, campaign: Campaign, guardian: str, account_id: str | None,
           values: Mapping[str, Any], at: datetime | None = None) -> dict[str, Any]:
    """``Dossier.guardian_answers`` with the guardian's ``values`` written over their own:
    an answer given again unchanged keeps its first date (when it was signed); an emptied one
    is taken out (not answered)."""
    out = {k: dict(v) for k, v in (dossier.guardian_answers or {}).items()
           if isinstance(v, Mapping)}
    when = (at or utcnow()).isoformat()
    for field_id, value in values.items():
        spec = campaign.fields[field_id]
        by_guardian = out.setdefault(field_id, {})
        before = by_guardian.get(guardian)
        if not spec.type.answered(value, spec, frozenset()):
            by_guardian.pop(guardian, None)
        elif not (isinstance(before, Mapping) and spec.type.same(before.get("value"), value,
                                                                 spec)):
            by_guardian[guardian] = {"value": value, "account": account_id, "at": when}
        if not by_guardian:
            del out[field_id]
    return out


@dataclass(frozen=True, slots=True)
class GuardianAnswer:
    """One guardian's answer to a per-guardian field (``value`` None: not answered yet)."""

    guardianship: Guardianship
    value: Any
    at: datetime | None

    @property
    def name(self) -> str:
        return self.guardianship.account.display_name

    def answered(self, spec: FieldSpec) -> bool:
        return spec.type.answered(self.value, spec, frozenset())

    def reply(self, spec: FieldSpec, lang: str | None = None) -> str:
        """« Oui, le 12/06/2027 » or « pas encore répondu »."""
        if not self.answered(spec) or self.at is None:
            return _("pas encore répondu")
        return _("{value}, le {date}").format(value=spec.type.display(self.value, spec, lang),
                                              date=format_date(self.at.date()))

    def status(self, spec: FieldSpec, lang: str | None = None) -> str:
        """« Marie DUPONT : Oui, le 12/06/2027 » or « Marie DUPONT : pas encore répondu »."""
        return f"{self.name} : {self.reply(spec, lang)}"


def answers_of(dossier: DossierData, spec: FieldSpec) -> list[GuardianAnswer]:
    """Each guardian's answer to ``spec``, one per guardian with a login, in order."""
    stored = (dossier.guardian_answers or {}).get(spec.id)
    by_guardian = stored if isinstance(stored, Mapping) else {}
    out = []
    for link in guardians_of(dossier):
        entry = by_guardian.get(link.guardian_key)
        if isinstance(entry, Mapping):
            at = entry.get("at")
            out.append(GuardianAnswer(link, entry.get("value"),
                                      datetime.fromisoformat(at) if isinstance(at, str) else None))
        else:
            out.append(GuardianAnswer(link, None, None))
    return out


def guardian_review(dossier: Dossier, campaign: Campaign, visible: set[str],
                    ) -> list[tuple[FieldSpec, list[GuardianAnswer]]]:
    """For the school: each shown per-guardian field with every guardian's answer."""
    return [(spec, answers_of(dossier, spec)) for spec in campaign.top_fields()
            if spec.per_guardian and spec.id in visible]


def replies(dossier: DossierData, spec: FieldSpec, hidden: Callable[[Guardianship], bool],
            lang: str | None = None) -> list[tuple[str, str]]:
    """(who, what they answered) for each guardian, as a reader may read it: a guardian
    ``hidden`` from the reader (their contact is confidential) as « L'autre responsable
    légal » with only whether they answered (no name, no date)."""
    out = []
    for answer in answers_of(dossier, spec):
        if hidden(answer.guardianship):
            out.append((OTHER_GUARDIAN, _("a répondu") if answer.answered(spec)
                        else _("pas encore répondu")))
        else:
            out.append((answer.name, answer.reply(spec, lang)))
    return out


def others_status(dossier: Dossier, spec: FieldSpec, account_id: int,
                  lang: str | None = None) -> list[str]:
    """What the guardian ``account_id`` is told of the other guardians' answers to ``spec``:
    their name, answer and date, or that they have not answered; of a guardian whose contact
    the school marked confidential, only whether they answered (no name, no date)."""
    out = []
    for answer in answers_of(dossier, spec):
        link = answer.guardianship
        if link.account_id == account_id:
            continue
        if link.confidential_contact:
            out.append(_("{name} a répondu").format(name=OTHER_GUARDIAN)
                       if answer.answered(spec) else
                       _("{name} n'a pas encore répondu").format(name=OTHER_GUARDIAN))
        else:
            out.append(answer.status(spec, lang))
    return out


def waiting_for(dossier: Dossier, campaign: Campaign, visible: set[str]) -> list[Guardianship]:
    """The guardians who have not yet answered every shown field with ``required:
    all_guardians``: the dossier cannot be sent before they do."""
    fields = [s for s in campaign.top_fields() if s.all_guardians and s.id in visible]
    return [link for link in guardians_of(dossier)
            if any(not answer.answered(spec) for spec in fields
                   for answer in answers_of(dossier, spec)
                   if answer.guardianship is link)]


def named_for(links: list[Guardianship], account_id: int | None) -> str:
    """« Marie DUPONT et Paul MARTIN » as the guardian ``account_id`` may read it (a
    confidential guardian as « l'autre responsable légal »; None: the school, which sees
    every name)."""
    names = [OTHER_GUARDIAN.lower() if link.confidential_contact
             and account_id is not None and link.account_id != account_id
             else link.account.display_name for link in links]
    if len(names) < 2:
        return "".join(names)
    return _("{first} et {last}").format(first=", ".join(names[:-1]), last=names[-1])
