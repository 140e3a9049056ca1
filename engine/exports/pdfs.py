"""PDFs for a selection of dossiers: the récapitulatifs in one file, the fiches infirmerie
(one page per pupil) and the invitation letters of families who have not logged in yet.

Each writes to a binary stream and reports progress, so a job can run it.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import IO, Any, Final

from fpdf import FPDF
from fpdf.enums import XPos, YPos
from pypdf import PdfWriter
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.campaign.model import Campaign
from engine.dossiers.accounts import reset_code
from engine.dossiers.models import FamilyAccount, Guardianship
from engine.fields.common import format_date
from engine.fields.date import parse_date
from engine.refdata.codes import PARENTE_CODES
from engine.rules import evaluate_dossier
from engine.security import Hasher

from .dossier_tables import Prepared, prepared
from .letters import INSTRUCTIONS, pdf_text
from .recap import FONT, font_files, recap_pdf
from .selection import Selection
from .siecle import phone_digits, updated_record
from .tables import Progress

LINE: Final = 6
PAI: Final = (
    "Projet d'accueil individualisé (PAI) : si votre enfant a une maladie chronique, une "
    "allergie ou une intolérance alimentaire demandant des soins ou un régime pendant le temps "
    "scolaire, demandez un PAI au médecin scolaire ou à l'infirmière, et joignez l'ordonnance "
    "et les médicaments dans une trousse à son nom. Un PAI de l'an dernier doit être "
    "renouvelé.")
SEALED: Final = ("Document confidentiel : à rendre sous enveloppe cachetée à l'attention de "
                 "l'infirmière, avec le nom et la classe de l'élève sur l'enveloppe.")


def _report(progress: Progress | None, done: int, total: int) -> None:
    if progress is not None:
        progress(done, total)


def recaps_pdf(selection: Selection, stream: IO[bytes], progress: Progress | None = None,
               ) -> int:
    """The récapitulatif of each dossier of the selection, one after the other in one PDF
    (fields the reader may not see left out); the number of dossiers."""
    writer = PdfWriter()
    total = len(selection)
    done = 0
    for p in prepared(selection):
        evaluation = evaluate_dossier(p.campaign, p.effective, p.ctx)
        for spec in p.campaign.top_fields():
            if not selection.shows(spec):
                evaluation.values.pop(spec.id, None)
        writer.append(io.BytesIO(recap_pdf(p.campaign, p.dossier, evaluation)))
        done += 1
        _report(progress, done, total)
    if not done:
        writer.add_blank_page(595, 842)
    writer.add_metadata({"/Title": f"Récapitulatifs – {selection.campaign.title.get()}",
                         "/Creator": "DossierSCO"})
    writer.write(stream)
    return done


class _Sheet(FPDF):
    """A4 pages in DejaVu Sans (every French character prints)."""

    def __init__(self) -> None:
        super().__init__(format="A4")
        regular, bold = font_files()
        self.add_font(FONT, "", str(regular))
        self.add_font(FONT, "B", str(bold))
        self.set_margins(18, 14, 18)
        self.set_auto_page_break(True, margin=14)
        self.set_creator("DossierSCO")

    def text_line(self, text: str, size: float = 10, style: str = "") -> None:
        self.set_font(FONT, style, size)
        self.multi_cell(0, size * 0.5 + 1, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def heading(self, text: str, size: float = 12) -> None:
        self.ln(2)
        self.text_line(text, size, "B")
        self.ln(0.5)

    def blank_lines(self, label: str, count: int) -> None:
        self.text_line(label, 10, "B")
        for _ in range(count):
            self.ln(LINE)
            y = self.get_y()
            self.line(self.l_margin, y, self.w - self.r_margin, y)
        self.ln(2)


def _phone_text(value: Any) -> str:
    """A French number in pairs (06 12 34 56 78), another as written."""
    number = phone_digits(value) or ""
    if len(number) == 10 and number.isdigit():
        return " ".join(number[i:i + 2] for i in range(0, 10, 2))
    return number


def _phones(guardian: Mapping[str, Any]) -> str:
    labels = (("phone_mobile", "portable"), ("phone_home", "domicile"),
              ("phone_work", "travail"))
    return " · ".join(f"{label} {_phone_text(guardian[key])}" for key, label in labels
                      if guardian.get(key)) or "pas de téléphone connu"


def _emergency_rows(campaign: Campaign, p: Prepared) -> Iterator[str]:
    """The rows of the repeats the family fills in without an import (emergency contacts)."""
    for spec in campaign.top_fields():
        if spec.type.is_container and spec.prefill is None:
            display = getattr(spec.type, "row_display", None)
            for row in p.effective.get(spec.id) or ():
                if isinstance(row, Mapping) and display is not None:
                    yield f"{spec.label.get()} : {display(row, spec)}"


def infirmary_pdf(selection: Selection, stream: IO[bytes], progress: Progress | None = None,
                  ) -> int:
    """The fiche infirmerie of each pupil of the selection, one page each, prefilled with
    identity, guardians and emergency contacts; blank lines for allergies and treatments."""
    pdf = _Sheet()
    pdf.set_title(f"Fiches infirmerie – {selection.establishment.name}")
    total = len(selection)
    done = 0
    for p in prepared(selection):
        pupil = p.dossier.pupil
        record = updated_record(p.campaign, p)
        pdf.add_page()
        pdf.text_line(f"{selection.establishment.name} — {p.campaign.title.get()}", 9)
        pdf.heading(f"Fiche infirmerie — {pupil.last_name.upper()} {pupil.first_name}", 15)
        birth = pupil.birth_date or parse_date((record.get("pupil") or {}).get("birth_date"))
        born = format_date(birth) if birth else "—"
        pdf.text_line(f"Classe : {p.division or '—'}    Né(e) le : {born}")
        pdf.text_line(SEALED, 8)
        pdf.heading("Responsables légaux")
        guardians = [g for g in record.get("guardians") or [] if isinstance(g, Mapping)]
        for guardian in guardians:
            lien = PARENTE_CODES.get(str(guardian.get("relationship") or ""), "")
            name = f"{guardian.get('first_name') or ''} {guardian.get('last_name') or ''}"
            pdf.text_line(f"{name.strip()}{f' ({lien.lower()})' if lien else ''} : "
                          f"{_phones(guardian)}")
        if not guardians:
            pdf.text_line("Aucun responsable connu.")
        pdf.heading("Personnes à prévenir en cas d'urgence")
        contacts = list(_emergency_rows(p.campaign, p))
        for line in contacts:
            pdf.text_line(line)
        if not contacts:
            pdf.text_line("Aucune personne indiquée dans le dossier.")
        pdf.heading("Santé (à compléter par la famille)")
        pdf.blank_lines("Allergies (alimentaires, médicamenteuses, autres) :", 3)
        pdf.blank_lines("Traitements en cours :", 3)
        pdf.blank_lines("Médecin traitant (nom, téléphone) :", 1)
        pdf.text_line(PAI, 9)
        pdf.ln(6)
        pdf.text_line("Date :                                    Signature d'un responsable "
                      "légal :", 10)
        done += 1
        _report(progress, done, total)
    if not done:
        pdf.add_page()
        pdf.text_line("Aucun élève dans cette sélection.")
    stream.write(bytes(pdf.output()))
    return done


@dataclass
class Letter:
    """One letter: a family who has never logged in, its new code, its pupils and what the
    school expects of them."""

    account: FamilyAccount
    code: str
    pupils: list[str] = field(default_factory=list)
    documents: list[str] = field(default_factory=list)


def never_logged_in(session: Session, selection: Selection) -> list[tuple[FamilyAccount,
                                                                            list[Prepared]]]:
    """The guardians of the selection's pupils who have never logged in, with their dossiers
    (in the selection's order)."""
    found: dict[int, tuple[FamilyAccount, list[Prepared]]] = {}
    for p in prepared(selection):
        for account in session.scalars(
                select(FamilyAccount).join(Guardianship)
                .where(Guardianship.pupil_id == p.dossier.pupil_id,
                       FamilyAccount.last_login_at.is_(None))
                .order_by(FamilyAccount.id)):
            found.setdefault(account.id, (account, []))[1].append(p)
    return list(found.values())


def new_letters(session: Session, hasher: Hasher, selection: Selection) -> list[Letter]:
    """A new code for every family of the selection who has never logged in (their old code,
    only known at import time, stops working), not committed: the caller commits together
    with its audit entry."""
    letters = []
    for account, dossiers in never_logged_in(session, selection):
        letter = Letter(account, reset_code(session, hasher, account))
        for p in dossiers:
            letter.pupils.append(f"{p.dossier.pupil.first_name} {p.dossier.pupil.last_name}")
            evaluation = evaluate_dossier(p.campaign, p.effective, p.ctx)
            letter.documents += [d.title for d in evaluation.documents
                                 if d.title not in letter.documents]
        letters.append(letter)
    return letters


def letters_pdf(letters: Sequence[Letter], campaign: Campaign, base_url: str,
                stream: IO[bytes]) -> None:
    """One page per family: web address, identifier, new code, the documents expected and the
    deadline."""
    pdf = _Sheet()
    est = campaign.establishment
    pdf.set_title(pdf_text(f"Convocations – {est.name}"))
    for letter in letters:
        pdf.add_page()
        pdf.heading(est.name, 14)
        for line in (est.address, est.phone, est.email):
            if line:
                pdf.text_line(line, 9)
        pdf.ln(6)
        pdf.heading(f"À l'attention de {letter.account.display_name}")
        pdf.text_line("Madame, Monsieur,")
        pdf.ln(2)
        pdf.text_line(f"Le dossier « {campaign.title.get()} » de "
                      f"{', '.join(letter.pupils) or 'votre enfant'} est à remplir en ligne "
                      f"avant le {format_date(campaign.closes)}. Vous ne vous êtes pas encore "
                      f"connecté : voici un nouveau code, qui remplace celui du premier "
                      f"courrier.")
        pdf.ln(3)
        for label, value in (("Adresse du site", base_url),
                             ("Identifiant", letter.account.login),
                             ("Code secret", letter.code)):
            pdf.set_font(FONT, "", 11)
            pdf.cell(45, 9, label + " :")
            pdf.set_font(FONT, "B", 13)
            pdf.cell(0, 9, value, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.ln(3)
        pdf.heading("Documents à préparer", 11)
        for document in letter.documents or ["Aucun document demandé pour l'instant."]:
            pdf.text_line(f"• {document}")
        pdf.ln(3)
        pdf.text_line(INSTRUCTIONS, 9)
    if not letters:
        pdf.add_page()
        pdf.text_line("Toutes les familles de cette sélection se sont déjà connectées.")
    stream.write(bytes(pdf.output()))
