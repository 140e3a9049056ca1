"""The PDF récapitulatif: read back with pypdf, it says what the family answered and pays."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from typing import Any

import pytest
from pypdf import PdfReader

from engine.campaign import Campaign, load_campaign
from engine.campaign.model import FieldSpec
from engine.config import ROOT
from engine.dossiers.models import Dossier, Pupil, StoredFile
from engine.dossiers.states import DossierState
from engine.exports.recap import recap_pdf
from engine.rules import DossierContext, Evaluation, evaluate_dossier

EXAMPLE = ROOT / "campaigns" / "college-jean-moulin.yaml"


@pytest.fixture(scope="module")
def campaign() -> Campaign:
    return load_campaign(EXAMPLE)


def canteen_case(campaign: Campaign) -> tuple[dict[str, Any], DossierContext]:
    case = next(t for t in campaign.tests if t.name.startswith("Tranche A"))
    return dict(case.answers), DossierContext(prefill=case.prefill, family=case.family,
                                              today=date(2027, 6, 10))


def make_dossier(answers: dict[str, Any], *, state: DossierState = DossierState.IN_PROGRESS,
                 computed: dict[str, Any] | None = None, first_name: str = "Léa",
                 files: list[tuple[str, str]] | None = None) -> Dossier:
    """A dossier in memory (the récapitulatif is pure: no database needed)."""
    pupil = Pupil(first_name=first_name, last_name="MARTIN", birth_date=date(2014, 3, 2))
    dossier = Dossier(pupil=pupil, state=state, answers=answers, computed=computed or {},
                      prefill={}, corrections={}, place_decisions={})
    dossier.files = [StoredFile(document_id=doc, filename=name, size=1000) for doc, name in files or []]
    return dossier


def text_of(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    # the no-break space before € comes back as a plain space
    return "\n".join(page.extract_text() for page in reader.pages).replace("\u00a0", " ")


class PhoneRedactor:
    """Masks every phone of the guardians' rows, as a confidential contact would be."""

    def masked(self, campaign: Campaign, spec: FieldSpec, row_key: str | None) -> bool:
        return spec.parent_id == "responsables" and spec.type.name == "phone"

    def hides_file(self, stored: StoredFile) -> bool:
        return stored.filename.startswith("secret")

    def hides_account(self, account_id: object) -> bool:
        return False


def recap(campaign: Campaign, answers: dict[str, Any], ctx: DossierContext, *,
          files: list[tuple[str, str]] | None = None,
          redactor: PhoneRedactor | None = None) -> tuple[str, Evaluation]:
    evaluation = evaluate_dossier(campaign, answers, ctx)
    pdf = recap_pdf(campaign, make_dossier(answers, files=files or []), evaluation,
                    redactor=redactor)
    assert pdf.startswith(b"%PDF-")
    return text_of(pdf), evaluation


def test_recap_lists_pupil_answers_fees_and_documents(campaign: Campaign) -> None:
    answers, ctx = canteen_case(campaign)
    answers["adhesions"] = ["fse"]
    text, evaluation = recap(campaign, answers, ctx,
                             files=[("attestation_caf", "attestation-caf.pdf"),
                                    ("reglement_interieur", "règlement-signé.jpg")])
    assert "Collège Jean Moulin (0691234A)" in text
    assert "Réinscription 2027-2028 au collège Jean Moulin" in text
    assert "Récapitulatif du dossier de Léa MARTIN" in text
    assert "Date de naissance : 02/03/2014" in text
    # every visible answered field: label and display text of its type
    regime = campaign.fields["regime"]
    shown = regime.type.display(answers["regime"], regime)
    assert shown and f"{regime.label.get()} : {shown}" in text
    qf = campaign.fields["quotient_familial"]
    assert f"{qf.label.get()} : 450 €" in text.splitlines()
    # repeat rows, with their children's labels
    assert "Claire" in text and "06 12 34 56 78" in text
    # fees with their explanation, and the total
    fee = evaluation.fees[0]
    assert f"{fee.label} : 216,00 €" in text
    assert "Quotient familial 450 → tranche A" in text
    assert "Adhésions\nFoyer socio-éducatif (FSE) : 10,00 €" in text
    assert "Total : 226,00 €" in text
    # computed values are printed too
    assert "Nombre de repas prévus dans l'année : 144" in text
    assert "attestation-caf.pdf" in text and "règlement-signé.jpg" in text


def test_hidden_fields_are_not_printed(campaign: Campaign) -> None:
    answers, ctx = canteen_case(campaign)
    answers["regime"] = "externe"
    text, evaluation = recap(campaign, answers, ctx)
    assert "quotient_familial" not in evaluation.visible
    assert campaign.fields["quotient_familial"].label.get() not in text
    assert "Aucun document envoyé." in text
    assert "Frais" not in text.split("Documents reçus")[0].splitlines()


def test_submitted_dossier_prints_the_frozen_fees(campaign: Campaign) -> None:
    """A later change of rules never changes what a sent dossier's PDF says."""
    answers, ctx = canteen_case(campaign)
    evaluation = evaluate_dossier(campaign, answers, ctx)
    frozen = evaluation.money()
    frozen["fees"][0]["amount"] = "199.00"
    frozen["fees"][0]["explanation"] = "Tarif voté en 2026"
    frozen["total"] = "199.00"
    frozen["computed"]["total_a_payer"] = "199.00"
    dossier = make_dossier(answers, state=DossierState.SUBMITTED, computed=frozen)
    dossier.submitted_at = datetime(2027, 6, 12, 8, 30, tzinfo=UTC)
    text = text_of(recap_pdf(campaign, dossier, evaluation))
    assert "Total : 199,00 €" in text and "Tarif voté en 2026" in text
    assert "216,00" not in text
    assert "Envoyé le : 12/06/2027 à 10:30" in text  # Paris time


def test_confidential_contact_is_never_printed(campaign: Campaign) -> None:
    answers, ctx = canteen_case(campaign)
    text, _evaluation = recap(campaign, answers, ctx, redactor=PhoneRedactor())
    assert "06 12 34 56 78" not in text and "0612345678" not in text
    assert "Information confidentielle" in text
    assert "06 98 76 54 32" in text  # the emergency contact is not a guardian


def test_unicode_names_print(campaign: Campaign) -> None:
    answers, ctx = canteen_case(campaign)
    evaluation = evaluate_dossier(campaign, answers, ctx)
    dossier = make_dossier(answers, first_name="Zoë-Œdipe")
    text = text_of(recap_pdf(campaign, dossier, evaluation))
    assert "Zoë-Œdipe MARTIN" in text


def test_a_request_for_an_option_with_places_prints_with_its_decision(campaign: Campaign) -> None:
    """The family's PDF says the option is a request, then what the school decided."""
    answers, ctx = canteen_case(campaign)
    answers["section_europeenne"] = "anglais"
    evaluation = evaluate_dossier(campaign, answers, ctx)
    dossier = make_dossier(answers)
    asked = text_of(recap_pdf(campaign, dossier, evaluation))
    assert "Demande soumise à l'accord du collège" in asked
    assert "Section européenne anglais (24 places) – demandé, le collège décidera" in asked
    dossier.place_decisions = {"section_europeenne": {"value": "anglais", "status": "waiting"}}
    decided = text_of(recap_pdf(campaign, dossier, evaluation))
    assert "Section européenne anglais (24 places) – liste d'attente" in decided
    answers["section_europeenne"] = "non"
    assert "accord du collège" not in text_of(recap_pdf(campaign, make_dossier(answers),
                                                         evaluate_dossier(campaign, answers, ctx)))
