"""Names an expression or a ``prefill:`` path can reach besides the campaign's own fields.

``pupil.*`` and ``guardians`` come from the imported record (SIECLE or spreadsheet),
``family.*`` from the family's other dossiers, ``previous.*`` from last year's dossier,
``fees.<tariff id>`` and ``fees.total`` from the campaign's own tariffs and memberships.
"""

from __future__ import annotations

from typing import Final

from engine.expr import ANY, BOOL, DATE, NUMBER, STR, Type
from engine.fields.address import PARTS

PUPIL_KEYS: Final[dict[str, Type]] = {
    "eleve_id": STR, "ine": STR, "elenoet": STR, "last_name": STR, "first_name": STR,
    "first_name_2": STR, "first_name_3": STR, "birth_date": DATE, "sex": STR,
    "birth_commune_insee": STR, "birth_commune": STR, "birth_department": STR,
    "birth_country": STR, "nationality": STR, "mef_code": STR, "mef_label": STR, "level": STR,
    "division": STR, "previous_mef_code": STR, "previous_division": STR,
    "previous_school_uai": STR, "previous_school_name": STR, "regime_code": STR,
    "options": Type("list", STR), "accepts_sms": BOOL, "address": ANY, "entry_date": DATE,
    "repeating": BOOL, "phone_mobile": STR, "email": STR,
}

GUARDIAN_KEYS: Final[dict[str, Type]] = {
    "personne_id": STR, "civility": STR, "last_name": STR, "first_name": STR,
    "relationship": STR, "legal_responsibility": STR, "phone_home": STR, "phone_work": STR,
    "phone_mobile": STR, "email": STR, "profession_code": STR, "pays_frais": BOOL,
    "accepts_sms": BOOL, "address": ANY, "contact_priority": BOOL, "lives_with_pupil": BOOL,
    "receives_aid": BOOL, "shares_address": BOOL,
}

FAMILY_KEYS: Final[dict[str, Type]] = {
    #: number of the family's children with a dossier in this campaign (this one included)
    "siblings": NUMBER,
    #: 1 for the eldest of those children, 2 for the next one…
    "rank": NUMBER,
}

#: address parts reachable as ``<address>.<part>``: those of the address field type
ADDRESS_KEYS: Final[tuple[str, ...]] = PARTS

#: ``fees.total``: every fee plus every membership, to the cent (a tariff may not be named so)
FEES_TOTAL: Final[str] = "total"

ROOTS: Final[tuple[str, ...]] = ("pupil", "guardians", "family", "previous", "fees")
