"""Who may do what on the school's side: one table from roles to permissions.

Every staff route asks for a :class:`Permission` in one establishment; nothing else decides
access. Health data (``restricted: health`` in a campaign) is the infirmerie's alone: not even
direction reads it, which is why ``VIEW_HEALTH`` is not part of "everything".
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Final

from .models import StaffAccount, StaffRole


class Permission(StrEnum):
    #: see the list of dossiers and the pupils' identity (every role)
    LIST_DOSSIERS = "list_dossiers"
    #: read the answers of a dossier (except health data), its documents and history
    READ_DOSSIERS = "read_dossiers"
    #: read health data (pages and fields marked ``restricted: health``)
    READ_HEALTH = "read_health"
    #: correct values, decide on documents, send back, validate, mark as leaving
    REVIEW_DOSSIERS = "review_dossiers"
    #: read fees, tariffs and memberships
    READ_FEES = "read_fees"
    #: e-mail families (reminders, one-off messages)
    MESSAGE_FAMILIES = "message_families"
    #: download tables and files
    EXPORT = "export"
    #: import pupils and families
    IMPORT = "import"
    #: invite agents, change their roles
    MANAGE_STAFF = "manage_staff"
    #: write and publish campaigns
    MANAGE_CAMPAIGNS = "manage_campaigns"
    #: read the audit trail
    READ_AUDIT = "read_audit"


P = Permission

ROLE_PERMISSIONS: Final[Mapping[StaffRole, frozenset[Permission]]] = {
    StaffRole.DIRECTION: frozenset(set(P) - {P.READ_HEALTH}),
    StaffRole.SECRETARIAT: frozenset({P.LIST_DOSSIERS, P.READ_DOSSIERS, P.REVIEW_DOSSIERS,
                                      P.READ_FEES, P.MESSAGE_FAMILIES, P.EXPORT, P.IMPORT}),
    StaffRole.GESTION: frozenset({P.LIST_DOSSIERS, P.READ_DOSSIERS, P.READ_FEES, P.EXPORT}),
    StaffRole.INFIRMERIE: frozenset({P.LIST_DOSSIERS, P.READ_HEALTH}),
    StaffRole.READ_ONLY: frozenset({P.LIST_DOSSIERS, P.READ_DOSSIERS}),
}

#: the deployment administrator: every establishment, everything but health data
ADMIN_PERMISSIONS: Final = frozenset(set(P) - {P.READ_HEALTH})

#: French names of the roles, for the pages
ROLE_LABELS: Final[Mapping[StaffRole, str]] = {
    StaffRole.DIRECTION: "Direction",
    StaffRole.SECRETARIAT: "Secrétariat",
    StaffRole.GESTION: "Gestion / intendance",
    StaffRole.INFIRMERIE: "Infirmerie",
    StaffRole.READ_ONLY: "Lecture seule",
}


def role_in(staff: StaffAccount, establishment_id: int) -> StaffRole | None:
    """The role of ``staff`` in the establishment, None when they have none there."""
    return next((m.role for m in staff.memberships if m.establishment_id == establishment_id),
                None)


def permissions_in(staff: StaffAccount, establishment_id: int) -> frozenset[Permission]:
    """What ``staff`` may do in the establishment (nothing when disabled)."""
    if staff.disabled_at is not None:
        return frozenset()
    role = role_in(staff, establishment_id)
    granted = ROLE_PERMISSIONS[role] if role is not None else frozenset()
    return granted | ADMIN_PERMISSIONS if staff.is_admin else granted


def can(staff: StaffAccount, permission: Permission, establishment_id: int) -> bool:
    return permission in permissions_in(staff, establishment_id)
