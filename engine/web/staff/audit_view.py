"""The establishment's audit trail, for ``READ_AUDIT``: latest entries first, by action, with
whether the whole chain still verifies. Read-only: the trail has no update or delete path."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from flask import render_template, request
from sqlalchemy import func, select

from engine.dossiers import audit
from engine.dossiers.models import AuditEntry, Dossier, FamilyAccount, Pupil, StaffAccount, StaffRole
from engine.dossiers.permissions import ROLE_LABELS, Permission, can
from engine.web.database import get_session
from engine.web.state import app_state

from . import bp
from .access import current_staff, establishment_for, staff_required

PER_PAGE: Final = 50
#: French names of the recorded actions; an action without one shows its code
ACTION_LABELS: Final[Mapping[str, str]] = {
    "health_viewed": "Informations de santé consultées",
    "document_downloaded": "Document téléchargé",
    "document_decided": "Décision sur un document",
    "value_corrected": "Valeur corrigée par l'établissement",
    "dossier_sent_back": "Dossier renvoyé à la famille",
    "dossier_validated": "Dossier validé",
    "dossier_leaving": "Départ de l'élève enregistré",
    "staff_created": "Compte d'agent créé (ligne de commande)",
    "staff_invited": "Agent invité",
    "staff_role_granted": "Rôle donné à un agent existant",
    "staff_role_changed": "Rôle d'un agent changé",
    "staff_removed": "Agent retiré de l'établissement",
    "staff_reset_sent": "Lien de mot de passe envoyé",
    "staff_second_factor_reset": "Double authentification réinitialisée",
    "staff_unlocked": "Compte d'agent débloqué",
}


@dataclass(frozen=True, slots=True)
class Row:
    at: datetime
    actor: str
    action: str
    #: (public id, pupil name) of the dossier concerned
    dossier: tuple[str, str] | None
    detail: str


def action_label(action: str) -> str:
    return ACTION_LABELS.get(action, action)


def _names(entries: list[AuditEntry]) -> tuple[dict[tuple[str, str], str],
                                               dict[int, tuple[str, str, datetime]]]:
    """Who (actor kind and id, and the agents the entries are about) and which dossier, by
    name, in three queries whatever the page size."""
    db = get_session()
    staff_ids = {int(e.actor_id) for e in entries if e.actor_kind == "staff"
                 and e.actor_id and e.actor_id.isdigit()}
    staff_ids |= {e.data["staff"] for e in entries if isinstance(e.data.get("staff"), int)}
    family_ids = {int(e.actor_id) for e in entries if e.actor_kind == "family"
                  and e.actor_id and e.actor_id.isdigit()}
    names: dict[tuple[str, str], str] = {}
    if staff_ids:
        for staff_id, name in db.execute(select(StaffAccount.id, StaffAccount.display_name)
                                         .where(StaffAccount.id.in_(staff_ids))):
            names[("staff", str(staff_id))] = name
    if family_ids:
        for family_id, name in db.execute(select(FamilyAccount.id, FamilyAccount.display_name)
                                          .where(FamilyAccount.id.in_(family_ids))):
            names[("family", str(family_id))] = name
    dossier_ids = {e.dossier_id for e in entries if e.dossier_id is not None}
    dossiers: dict[int, tuple[str, str, datetime]] = {}
    if dossier_ids:
        for dossier_id, public_id, first, last, created in db.execute(
                select(Dossier.id, Dossier.public_id, Pupil.first_name, Pupil.last_name,
                       Dossier.created_at)
                .join(Pupil, Pupil.id == Dossier.pupil_id).where(Dossier.id.in_(dossier_ids))):
            dossiers[dossier_id] = (public_id, f"{last} {first}", created)
    return names, dossiers


def _dossier(entry: AuditEntry, dossiers: dict[int, tuple[str, str, datetime]],
             ) -> tuple[str, str] | None:
    """The dossier an entry is about, unless it was deleted (retention): SQLite may give its
    id to a dossier created later, which the entry is not about."""
    found = dossiers.get(entry.dossier_id) if entry.dossier_id is not None else None
    if found is None or found[2] > entry.at:
        return None
    return found[0], found[1]


def _detail(data: Mapping[str, Any], names: Mapping[tuple[str, str], str]) -> str:
    parts = []
    if isinstance(data.get("staff"), int):
        parts.append(names.get(("staff", str(data["staff"])), f"agent n° {data['staff']}"))
    for key in ("previous", "role"):
        if data.get(key) in {r.value for r in StaffRole}:
            parts.append(("ancien rôle : " if key == "previous" else "rôle : ")
                         + ROLE_LABELS[StaffRole(data[key])])
    if isinstance(data.get("fields"), list):
        parts.append("champs : " + ", ".join(str(f) for f in data["fields"]))
    return " ; ".join(parts)


def _actor(entry: AuditEntry, names: Mapping[tuple[str, str], str]) -> str:
    if entry.actor_kind == "system":
        return "Système (ligne de commande, tâche)"
    name = names.get((entry.actor_kind, entry.actor_id or ""))
    if entry.actor_kind == "family":
        return f"{name} (famille)" if name else "Famille"
    return name or f"Agent n° {entry.actor_id}"


def _chain_ok() -> tuple[int, audit.BrokenLink | None]:
    """The whole chain, checked in a session of its own (``verify_chain`` expunges as it
    goes, which must not detach the request's objects)."""
    with app_state().database.sessions() as session:
        return audit.verify_chain(session)


@bp.get("/<uai>/journal")
@staff_required
def audit_log(uai: str) -> str:
    establishment = establishment_for(uai, Permission.READ_AUDIT)
    db = get_session()
    action = request.args.get("action", "")[:40]
    page_arg = request.args.get("page", "1")
    page = int(page_arg) if page_arg.isascii() and page_arg.isdigit() and len(page_arg) < 6 \
        else 1
    where = [AuditEntry.establishment_id == establishment.id]
    if action:
        where.append(AuditEntry.action == action)
    total = db.scalar(select(func.count()).select_from(AuditEntry).where(*where)) or 0
    pages = max(1, -(-total // PER_PAGE))
    page = max(1, min(page, pages))
    entries = list(db.scalars(select(AuditEntry).where(*where).order_by(AuditEntry.seq.desc())
                              .offset((page - 1) * PER_PAGE).limit(PER_PAGE)))
    names, dossiers = _names(entries)
    rows = [Row(e.at, _actor(e, names), action_label(e.action),
                _dossier(e, dossiers),
                _detail(e.data, names)) for e in entries]
    actions = sorted(db.scalars(select(AuditEntry.action).where(
        AuditEntry.establishment_id == establishment.id).distinct()), key=action_label)
    checked, broken = _chain_ok()
    account = current_staff()
    assert account is not None
    return render_template(
        "staff/audit.html", establishment=establishment, rows=rows, total=total, page=page,
        pages=pages, action=action, actions=[(a, action_label(a)) for a in actions],
        checked=checked, broken=broken,
        can_read=can(account, Permission.READ_DOSSIERS, establishment.id))
