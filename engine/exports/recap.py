"""The PDF récapitulatif of a dossier, attached to the confirmation email and downloadable.

Pure: a campaign, a dossier and its evaluation in, PDF bytes out (no Flask). Text is drawn with
DejaVu Sans (Debian ``fonts-dejavu-core``) so every French character and the euro sign print.
Fees come from what was frozen on the dossier at submission when there is one, so the PDF shows
exactly what the family saw and the school stored.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any, Final
from zoneinfo import ZoneInfo

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from engine.campaign.model import Campaign, slot_parts
from engine.diagnostics import EngineError
from engine.dossiers.documents import slot_label
from engine.dossiers.guardian_answers import replies
from engine.dossiers.models import DossierData
from engine.dossiers.places import PlaceStatus, requests_of
from engine.dossiers.recompute import is_frozen
from engine.dossiers.summary import Entry, Redactor, money_text, visible_answers
from engine.fields.common import format_date
from engine.rules import Evaluation

#: where Debian, Fedora/Arch and local installs put DejaVu Sans
FONT_DIRS: Final = (Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/dejavu"),
                    Path("/usr/share/fonts/TTF"), Path("/usr/local/share/fonts"))
FONT: Final = "DejaVu"
MASKED: Final = "Information confidentielle"
LINE: Final = 5.5
PARIS: Final = ZoneInfo("Europe/Paris")
#: label, text (None for a repeat row's title) and left indent in mm
_Line = tuple[str, str | None, float]


class FontMissingError(EngineError, RuntimeError):
    """DejaVu Sans is not installed (Debian: ``apt-get install fonts-dejavu-core``)."""


@cache
def font_files() -> tuple[Path, Path]:
    """The regular and bold DejaVu Sans files."""
    for folder in FONT_DIRS:
        regular, bold = folder / "DejaVuSans.ttf", folder / "DejaVuSans-Bold.ttf"
        if regular.is_file() and bold.is_file():
            return regular, bold
    raise FontMissingError("DejaVu Sans not found: install fonts-dejavu-core")


class _Recap(FPDF):
    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(FONT, size=8)
        self.cell(0, 5, f"Page {self.page_no()}/{{nb}}", align="C")


#: the PDF's work is bounded whatever a dossier holds: each text cut to this many characters
MAX_TEXT: Final = 2000
#: and at most this many pages (a real récapitulatif takes 3 or 4), then a last line says so
MAX_PAGES: Final = 30
TRUNCATED: Final = "… (récapitulatif abrégé : le dossier complet est en ligne)"


class Writer:
    """Writes the PDF within :data:`MAX_TEXT` and :data:`MAX_PAGES`."""

    def __init__(self, lang: str | None) -> None:
        regular, bold = font_files()
        pdf = _Recap(format="A4")
        pdf.set_margins(18, 16, 18)
        pdf.set_auto_page_break(True, margin=18)
        pdf.add_font(FONT, "", str(regular))
        pdf.add_font(FONT, "B", str(bold))
        pdf.add_page()
        self.pdf = pdf
        self.lang = lang
        self.full = False

    def _room(self) -> bool:
        """Whether there is room for more; the first time there is not, says so."""
        if self.full:
            return False
        if self.pdf.page_no() >= MAX_PAGES:
            self.full = True
            self.pdf.set_font(FONT, "", 9)
            self.pdf.multi_cell(0, LINE, TRUNCATED, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            return False
        return True

    @staticmethod
    def _cut(text: str) -> str:
        return text if len(text) <= MAX_TEXT else text[:MAX_TEXT] + "…"

    def heading(self, text: str, size: float = 13) -> None:
        if not self._room():
            return
        text = self._cut(text)
        pdf = self.pdf
        pdf.ln(2)
        pdf.set_font(FONT, "B", size)
        pdf.multi_cell(0, size * 0.55, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.ln(1)

    def subheading(self, text: str) -> None:
        if not self._room():
            return
        self.pdf.set_font(FONT, "B", 10)
        self.pdf.cell(0, LINE + 1, self._cut(text)[:200], new_x=XPos.LMARGIN,
                      new_y=YPos.NEXT)

    def para(self, text: str, size: float = 10) -> None:
        if not self._room():
            return
        self.pdf.set_font(FONT, "", size)
        self.pdf.multi_cell(0, LINE, self._cut(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def pair(self, label: str, value: str, indent: float = 0) -> None:
        """« Label : value », the label in bold, wrapped over the page width."""
        if not self._room():
            return
        label, value = self._cut(label), self._cut(value)
        pdf = self.pdf
        pdf.set_x(pdf.l_margin + indent)
        pdf.set_font(FONT, "B", 10)
        pdf.write(LINE, f"{label} : ")
        pdf.set_font(FONT, "", 10)
        pdf.write(LINE, value or "—")
        pdf.ln(LINE + 0.5)

    def output(self) -> bytes:
        return bytes(self.pdf.output())


def _answers(w: Writer, campaign: Campaign, dossier: DossierData, evaluation: Evaluation,
             computed_values: Mapping[str, Any], redactor: Redactor | None) -> None:
    for section in visible_answers(campaign, evaluation, evaluation.values, computed_values,
                                   redactor=redactor, lang=w.lang):
        lines: list[_Line] = []
        for entry in section.entries:
            if entry.rows is not None:
                lines.extend(_rows(entry, w.lang))
            elif entry.spec.per_guardian:
                lines.extend(_per_guardian(entry, dossier, redactor, w.lang))
            elif not entry.empty:
                lines.append((entry.label, entry.text, 0))
        if lines:
            w.heading(section.title, 12)
            for label, text, indent in lines:
                if text is None:
                    w.subheading(label)
                else:
                    w.pair(label, text, indent)


def _rows(entry: Entry, lang: str | None) -> list[_Line]:
    rows = entry.rows or ()
    item = entry.spec.options.item_label.get(lang) or entry.label
    lines: list[_Line] = []
    for row in rows:
        lines.append((f"{item} {row.index + 1}" if len(rows) > 1 else item, None, 0))
        lines.extend((cell.label, MASKED if cell.masked else cell.text, 6)
                     for cell in row.cells if cell.masked or not cell.empty)
    return lines


def _per_guardian(entry: Entry, dossier: DossierData, redactor: Redactor | None,
                  lang: str | None) -> list[_Line]:
    """A per-guardian field: what each guardian answered and when, or that they have not
    answered yet (a guardian hidden from the reader without name nor date)."""
    said = replies(dossier, entry.spec, lambda link: redactor is not None
                   and redactor.hides_account(link.account_id), lang)
    return [(entry.label, None, 0), *((who, what, 6) for who, what in said)] if said else []


def _fees(w: Writer, money: Mapping[str, Any]) -> None:
    fees: Sequence[Mapping[str, Any]] = money.get("fees") or ()
    memberships: Sequence[Mapping[str, Any]] = money.get("memberships") or ()
    if not fees and not memberships:
        return
    w.heading("Frais")
    for fee in fees:
        w.pair(str(fee["label"]), money_text(fee["amount"]))
        if fee.get("explanation"):
            w.pdf.set_x(w.pdf.l_margin + 6)
            w.para(str(fee["explanation"]), 9)
    if memberships:
        w.heading("Adhésions", 12)
        for membership in memberships:
            suffix = " (obligatoire)" if membership.get("required") else ""
            w.pair(f"{membership['label']}{suffix}", money_text(membership["fee"]))
    w.pdf.ln(1)
    w.pair("Total", money_text(money.get("total") or "0"))


def _documents(w: Writer, campaign: Campaign, dossier: DossierData,
               redactor: Redactor | None) -> None:
    documents = {d.id for d in campaign.documents}
    received = [f for f in dossier.files if slot_parts(f.document_id)[0] in documents
                and (redactor is None or not redactor.hides_file(f))]
    w.heading("Documents reçus")
    if not received:
        w.para("Aucun document envoyé.")
        return
    for stored in received:
        w.pair(slot_label(campaign, stored.document_id, dossier.answers, w.lang),
               stored.filename)


def _requests(w: Writer, campaign: Campaign, dossier: DossierData) -> None:
    """The options with places asked for, each with the school's decision (as the family's
    pages show them)."""
    requests = requests_of(campaign, dossier)
    if not requests:
        return
    w.heading("Demande soumise à l'accord du collège" if len(requests) == 1
              else "Demandes soumises à l'accord du collège")
    for r in requests:
        decided = "demandé, le collège décidera" if r.status is PlaceStatus.REQUESTED \
            else r.status_label
        w.pair(r.spec.label.get(w.lang), f"{r.option_label} ({r.places} places) – {decided}")


def recap_pdf(campaign: Campaign, dossier: DossierData, evaluation: Evaluation,
              lang: str | None = None, *, redactor: Redactor | None = None) -> bytes:
    """The récapitulatif of ``dossier``: establishment, pupil, every visible answer (to a
    per-guardian field, each guardian's, whoever reads), fees, memberships, total, the
    requests for options with places and their decisions, and the documents received.

    ``evaluation.values`` are the answers printed: pass values already redacted for the reader,
    and/or a ``redactor`` whose masked contact details print as « Information confidentielle »
    (the other guardian's confidential contact never appears) and whose hidden guardians
    are not named.

    :raises FontMissingError: DejaVu Sans is not installed.
    """
    w = Writer(lang)
    w.pdf.set_title(f"Récapitulatif – {dossier.pupil.first_name} {dossier.pupil.last_name}")
    w.pdf.set_creator("DossierSCO")
    write_recap(w, campaign, dossier, evaluation, redactor)
    return w.output()


def write_recap(w: Writer, campaign: Campaign, dossier: DossierData, evaluation: Evaluation,
                redactor: Redactor | None) -> None:
    """The récapitulatif's sections, from the current position of ``w`` (several dossiers
    share one PDF in « Mes données »)."""
    lang = w.lang
    est = campaign.establishment
    w.para(est.name + (f" ({est.uai})" if est.uai else ""), 10)
    if est.address:
        w.para(est.address, 9)
    w.heading(campaign.title.get(lang), 15)
    w.heading(f"Récapitulatif du dossier de {dossier.pupil.first_name} "
              f"{dossier.pupil.last_name}", 12)
    if dossier.pupil.birth_date:
        w.pair("Date de naissance", format_date(dossier.pupil.birth_date))
    submitted: datetime | None = dossier.submitted_at
    if submitted is not None:
        local = submitted.astimezone(PARIS)
        w.pair("Envoyé le", local.strftime("%d/%m/%Y à %H:%M"))
    # once sent, fees and computed values are those frozen at submission, never recomputed
    money = dict(dossier.computed) if is_frozen(dossier) else evaluation.money()
    _answers(w, campaign, dossier, evaluation, money.get("computed") or {}, redactor)
    _fees(w, money)
    _requests(w, campaign, dossier)
    _documents(w, campaign, dossier, redactor)
