"""Every SIECLE civility, parenté and profession code the sample exports carry is the choice
the example campaign offers for it (issue 10, item 5): "M." is ``M``, so the box is ticked."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.campaign import load_campaign
from engine.config import ROOT
from engine.dossiers.campaigns import effective_answers
from engine.prefill import read_siecle
from engine.refdata.codes import PROFESSION_CODES
from engine.rules import DossierContext

SAMPLES = [ROOT / "tests" / "prefill" / "samples" / "responsables_avec_adresses_simple.xml",
           ROOT / "campaigns" / "demo" / "ResponsablesAvecAdresses.xml",
           Path("/work/shared/siecle/responsables_avec_adresses_simple.xml")]
CAMPAIGN = load_campaign(ROOT / "campaigns" / "college-jean-moulin.yaml")


@pytest.mark.parametrize("sample", [s for s in SAMPLES if s.exists()], ids=lambda p: p.name)
def test_every_imported_code_is_a_choice(sample: Path) -> None:
    result = read_siecle(sample)
    assert result.guardians
    guardians = CAMPAIGN.fields["responsables"]
    choices = {child.id: child.type.options(child).values for child in guardians.fields
               if child.id in {"civilite", "lien_parente", "profession"}}
    seen: set[str] = set()
    for guardian in result.guardians:
        for link in guardian.links:
            ctx = DossierContext(prefill={"guardians": [guardian.as_prefill(link.eleve_id)]})
            (row,) = effective_answers(CAMPAIGN, {}, ctx)["responsables"]
            assert row["civilite"] in choices["civilite"], guardian.civility
            assert row["lien_parente"] in choices["lien_parente"], link.code_parente
            if guardian.profession_code in PROFESSION_CODES:  # "30" is no SIECLE code
                assert row["profession"] == guardian.profession_code
            seen.add(str(guardian.civility))
    assert seen & {"M.", "MME"}


@pytest.mark.parametrize(("code", "value"), [("M.", "M"), ("MME", "MME"), ("M", "M"),
                                             ("Mme", "MME"), ("MADAME", "MME"),
                                             ("MONSIEUR", "M"), ("Docteur", "Docteur")])
def test_civility_spellings(code: str, value: str) -> None:
    civility = CAMPAIGN.fields["responsables.civilite"]
    assert civility.type.imported(code, civility) == value
