"""Credentials for the school to hand out: a PDF of letters (one page per guardian) and a CSV
for mail merge. Codes exist in clear only here, at the moment they are created.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import cast

from fpdf import FPDF

from engine.campaign.model import Establishment
from engine.dossiers.accounts import Credential
from engine.exports.tables import csv_bytes

CSV_HEADER = ("identifiant", "code_secret", "responsable", "courriel", "eleves", "adresse_web")

#: characters of ISO-8859-15 and common typography missing from the PDF core fonts (Latin-1)
_LATIN1 = str.maketrans({"œ": "oe", "Œ": "OE", "€": "EUR", "’": "'", "‘": "'", "“": '"',
                         "”": '"', "–": "-", "—": "-", "…": "...", "Š": "S", "š": "s",
                         "Ž": "Z", "ž": "z", "Ÿ": "Y", "\u202f": " "})


def pdf_text(text: str) -> str:
    """``text`` in the Latin-1 the core PDF fonts can draw (no font file to ship)."""
    return text.translate(_LATIN1).encode("latin-1", "replace").decode("latin-1")


INSTRUCTIONS = (
    "1. Ouvrez l'adresse du site sur un ordinateur, une tablette ou un téléphone.\n"
    "2. Saisissez votre identifiant et votre code secret (les tirets sont facultatifs).\n"
    "3. Vérifiez les informations connues du collège, complétez le dossier, puis validez-le.\n"
    "\n"
    "Ce code est personnel : ne le communiquez à personne. Le collège ne vous le demandera "
    "jamais par téléphone ni par courriel. Après plusieurs essais erronés, le compte est "
    "bloqué quelques minutes.\n"
    "\n"
    "Vous n'avez pas accès à Internet ou vous avez perdu ce courrier ? Adressez-vous au "
    "secrétariat du collège.")


class _Letters(FPDF):
    """Wraps each distinct paragraph once: fpdf2's line breaking is the slow part, and most
    of a letter is the same on every page (20,000 letters in seconds, not minutes)."""

    def __init__(self) -> None:
        super().__init__(format="A4")
        self.set_auto_page_break(auto=False)
        self.width = self.w - 2 * self.l_margin
        self._wrapped: dict[tuple[str, str, float, str], list[str]] = {}

    def paragraph(self, text: str, height: float, style: str = "", size: float = 11) -> None:
        self.set_font("Helvetica", style, size)
        key = (style, text, size, self.font_family)
        if key not in self._wrapped:
            # output="LINES" makes multi_cell return the wrapped lines
            self._wrapped[key] = cast(list[str], self.multi_cell(
                self.width, height, pdf_text(text), dry_run=True, output="LINES"))
        for line in self._wrapped[key]:
            self.cell(self.width, height, line, new_x="LMARGIN", new_y="NEXT")


def letters_pdf(credentials: Sequence[Credential], establishment: Establishment,
                base_url: str) -> bytes:
    """One A4 page per guardian: school, web address, identifier, code, instructions."""
    pdf = _Letters()
    pdf.set_title(pdf_text(f"Identifiants de connexion - {establishment.name}"))
    pdf.set_creator("DossierSCO")
    contact = [c for c in (establishment.address, establishment.phone, establishment.email) if c]
    for cred in credentials:
        pdf.add_page()
        pdf.paragraph(establishment.name, 7, "B", 14)
        for line in contact:
            pdf.paragraph(line, 5, "", 10)
        pdf.ln(10)
        pdf.paragraph(f"À l'attention de {cred.display_name}", 7, "B", 12)
        pdf.ln(4)
        pupils = ", ".join(cred.pupils) or "votre enfant"
        pdf.paragraph("Madame, Monsieur,", 6)
        pdf.ln(6)
        pdf.paragraph(f"La réinscription de {pupils} se fait en ligne. Voici vos identifiants "
                      f"personnels pour accéder au dossier.", 6)
        pdf.ln(6)
        for label, value in (("Adresse du site", base_url), ("Identifiant", cred.login),
                             ("Code secret", cred.code)):
            pdf.set_font("Helvetica", "", 11)
            pdf.cell(45, 10, pdf_text(label + " :"))
            pdf.set_font("Courier", "B", 14)
            pdf.cell(pdf.width - 45, 10, pdf_text(value), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(6)
        pdf.paragraph(INSTRUCTIONS, 6)
    return bytes(pdf.output())


def credentials_csv(credentials: Sequence[Credential], base_url: str) -> bytes:
    """The mail-merge file: one line per new code."""
    return csv_bytes(CSV_HEADER, ((cred.login, cred.code, cred.display_name, cred.email or "",
                                   ", ".join(cred.pupils), base_url) for cred in credentials))


def write_credentials(folder: Path, credentials: Sequence[Credential],
                      establishment: Establishment, base_url: str, *, slug: str,
                      at: datetime) -> list[Path]:
    """Write the PDF and the CSV in ``folder`` (mode 0600, never over an earlier file: the
    codes of an earlier import exist nowhere else)."""
    folder.mkdir(parents=True, exist_ok=True)
    base = f"identifiants-{re.sub(r'[^A-Za-z0-9_-]', '-', slug)}-{at:%Y%m%d-%H%M%S}"
    stem, n = base, 1
    while (folder / f"{stem}.pdf").exists() or (folder / f"{stem}.csv").exists():
        n += 1
        stem = f"{base}-{n}"
    paths = []
    for suffix, content in ((".pdf", letters_pdf(credentials, establishment, base_url)),
                            (".csv", credentials_csv(credentials, base_url))):
        path = folder / (stem + suffix)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
        paths.append(path)
    return paths
