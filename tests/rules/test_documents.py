"""Documents to upload: required, required_if with reasons; memberships."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from engine.rules import DossierContext, evaluate_dossier

from campaign.helpers import compile_fields

C = compile_fields("""\
    - id: regime
      type: choice
      choices:
        - {value: externe, label: Externe}
        - {value: interne, label: Interne}
    - id: pai
      type: boolean
    - id: adhesions
      type: memberships
    - id: lycee
      type: boolean
    """, """\
    associations:
      - {id: fse, label: FSE, fee: "8.00", required: true}
      - {id: as, label: Association sportive, fee: "15.50"}
      - {id: mdl, label: Maison des lycéens, fee: "5.00", available_if: lycee == true}
    documents:
      - {id: assurance, label: Attestation d'assurance}
      - id: certificat
        label: Certificat médical
        required_if: regime == 'interne'
      - id: protocole
        label: Protocole PAI
        required_if: pai == true
        reason: Votre enfant a un PAI.
      - {id: facultatif, label: Facultatif, required: false}
    """)
CTX = DossierContext(today=date(2027, 6, 1))


def docs(**answers: Any) -> dict[str, str]:
    return {d.document_id: d.reason for d in evaluate_dossier(C, answers, CTX).documents}


def test_always_required_document() -> None:
    assert docs() == {"assurance": "Document demandé à toutes les familles."}


def test_required_if_with_reason_from_the_condition() -> None:
    got = docs(regime="interne")
    assert set(got) == {"assurance", "certificat"}
    assert got["certificat"] == "Demandé car « regime » est « Interne »."
    assert "certificat" not in docs(regime="externe")


def test_required_if_with_written_reason() -> None:
    assert docs(pai=True)["protocole"] == "Votre enfant a un PAI."
    assert "protocole" not in docs(pai=False)


def test_memberships_required_available_and_total() -> None:
    result = evaluate_dossier(C, {"adhesions": ["as"]}, CTX)
    assert [(m.association_id, m.required) for m in result.memberships] == [
        ("fse", True), ("as", False)]
    assert result.total == Decimal("23.50")
    result = evaluate_dossier(C, {"adhesions": ["mdl"]}, CTX)
    assert [m.association_id for m in result.memberships] == ["fse"]
    result = evaluate_dossier(C, {"adhesions": ["mdl"], "lycee": True}, CTX)
    assert [m.association_id for m in result.memberships] == ["fse", "mdl"]
    assert result.money()["total"] == "13.00"
