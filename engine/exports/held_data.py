"""« Mes données » as a PDF: the guardian's account, their shared details, the messages they
received, then each child's dossier as its récapitulatif (:func:`engine.exports.recap.
write_recap`, redacted for that guardian), with its documents and history."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from engine.dossiers.privacy import HeldData, seen_evaluation
from engine.dossiers.summary import date_text

from .recap import PARIS, Writer, write_recap


def _when(value: datetime | None) -> str:
    return value.astimezone(PARIS).strftime("%d/%m/%Y à %H:%M") if value else "—"


def _text(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k} : {_text(v)}" for k, v in value.items() if v not in (None, ""))
    return "—" if value is None else str(value)


def held_data_pdf(held: HeldData) -> bytes:
    """The PDF of :class:`HeldData`, the same content as its JSON in words.

    :raises FontMissingError: DejaVu Sans is not installed.
    """
    w = Writer(None)
    w.pdf.set_title("Mes données – DossierSCO")
    w.pdf.set_creator("DossierSCO")
    account = held.account
    w.heading("Données détenues à votre sujet et au sujet de vos enfants", 15)
    w.para(f"Document établi le {_when(held.at)}.", 9)
    w.heading("Votre compte")
    w.pair("Identifiant", account.login)
    w.pair("Nom", account.display_name)
    w.pair("Adresse électronique", account.email or "—")
    w.pair("Compte créé le", _when(account.created_at))
    w.pair("Dernière connexion", _when(account.last_login_at))
    if held.profiles:
        w.heading("Vos coordonnées partagées entre les dossiers de vos enfants", 12)
        for profile in held.profiles:
            for key, value in profile.values.items():
                w.pair(key, _text(value))
    if held.messages:
        w.heading("Messages reçus", 12)
        for message in held.messages:
            w.pair(_when(message.at), f"{message.subject} ({message.address})")
    for rating in held.ratings:
        w.pair("Votre avis", f"{rating.score}/5" + (f" – {rating.comment}"
                                                      if rating.comment else ""))
    for view in held.dossiers:
        w.pdf.add_page()
        write_recap(w, view.campaign, view.dossier, seen_evaluation(view), view.redaction)
        w.pair("Données conservées jusqu'au", date_text(view.campaign.purge_on))
        if view.dossier.events:
            w.heading("Historique", 12)
            for event in view.dossier.events:
                w.pair(_when(event.at), f"{event.kind} ({event.actor_kind})")
    return w.output()
