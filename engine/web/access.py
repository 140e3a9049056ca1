"""Who may reach a dossier through a route: the access checks of every route taking a dossier
or file id, in one place.

One function per kind of principal (the logged-in guardian today, staff next) returns the
dossier or raises ``NotFound``: a dossier one may not see answers 404, exactly as an id that
does not exist (never 403, which would confirm it exists).
"""

from __future__ import annotations

import re
from typing import Final

from flask import abort
from flask_limiter.util import get_remote_address
from flask_login import current_user

from engine.dossiers.campaigns import redaction_for
from engine.dossiers.documents import file_of_dossier
from engine.dossiers.models import Dossier, StoredFile
from engine.dossiers.services import dossier_of_account
from engine.web.database import get_session

#: what ``new_public_id`` produces; anything else is not looked up at all
PUBLIC_ID: Final = re.compile(r"[A-Za-z0-9_-]{22,32}")


def throttle_key() -> str:
    """Rate limits of the family's routes count per account (families behind one school or
    office NAT share an address), per address before login."""
    if current_user.is_authenticated:
        return f"account:{current_user.id}"
    return get_remote_address()


def family_dossier(public_id: str) -> Dossier:
    """The dossier if the logged-in guardian may see it; 404 otherwise."""
    if not current_user.is_authenticated or not PUBLIC_ID.fullmatch(public_id):
        abort(404)
    dossier = dossier_of_account(get_session(), current_user.id, public_id)
    if dossier is None:
        abort(404)
    return dossier


def family_file(public_id: str, file_id: str) -> tuple[Dossier, StoredFile]:
    """The dossier and one of its stored files, if the logged-in guardian may see the
    dossier; 404 otherwise, and for another dossier's file."""
    dossier = family_dossier(public_id)
    if not PUBLIC_ID.fullmatch(file_id):
        abort(404)
    stored = file_of_dossier(get_session(), dossier, file_id)
    # a file the other guardian sent under a confidential contact: as if it did not exist
    if stored is None or redaction_for(dossier, current_user.id).hides_file(stored):
        abort(404)
    return dossier, stored
