"""The school's import in Chromium: an agent uploads the sample SIECLE exports, reads the dry
run, confirms, follows the import and downloads the letters; a family logs in with the code
of its letter and changes a phone; once the dossier is validated, the agent downloads the
changes-only XLSX (exactly that field) and the SIECLE return file (with the new phone).
Every page is checked by axe-core and photographed."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Callable
from pathlib import Path

import openpyxl
import pytest
from playwright.sync_api import Page, expect
from pypdf import PdfReader
from sqlalchemy import select

from engine.campaign import load_campaign_text
from engine.dossiers.models import Dossier, FamilyAccount, Guardianship, Pupil
from engine.dossiers.services import change_state, ensure_establishment
from engine.dossiers.states import Actor, DossierState
from engine.dossiers.versions import register_version

from .conftest import LiveServer, Visit
from .family import CAMPAIGN
from .test_journey import group
from .test_staff_journey import BASE, SLUG, _agent, login_agent

pytestmark = pytest.mark.browser

DEMO = Path(__file__).resolve().parents[2] / "campaigns" / "demo"
UAI = "0691234A"


def _campaign(live_server: LiveServer) -> None:
    """The example campaign registered for its school, no pupil yet."""
    source = CAMPAIGN.read_text(encoding="utf-8")
    campaign = load_campaign_text(source, name=CAMPAIGN.name, base_dir=CAMPAIGN.parent)
    with live_server.session() as session:
        establishment = ensure_establishment(session, uai=campaign.establishment.uai,
                                             name=campaign.establishment.name)
        register_version(session, establishment, slug=campaign.id, title=campaign.title.get(),
                         source=source)
        session.commit()


def _validate(live_server: LiveServer, login: str) -> str:
    """The family's dossier (of the account ``login``) sent, then validated by the school
    with its destination MEF and division; its public id."""
    with live_server.session() as session:
        dossier = session.scalars(
            select(Dossier).join(Pupil).join(Guardianship, Guardianship.pupil_id == Pupil.id)
            .join(FamilyAccount).where(FamilyAccount.login == login)
            .order_by(Pupil.first_name)).first()
        assert dossier is not None
        for state, actor in ((DossierState.SUBMITTED, Actor.family(1)),
                             (DossierState.VALIDATED, Actor.staff(1))):
            change_state(session, dossier, dossier.row_version, state, actor)
        dossier.corrections = {"mef_destination": "10310019110", "division_destination": "4B"}
        session.commit()
        return dossier.public_id


def _job_file(page: Page, suffix: str) -> bytes:
    """The file of the export job whose page the agent was sent to (it refreshes itself)."""
    link = page.locator("a[download]").filter(has_text=suffix)
    expect(link).to_be_visible(timeout=60_000)
    with page.expect_download() as download:
        link.click()
    return Path(download.value.path()).read_bytes()


def test_agent_imports_siecle_files_then_exports_the_changes(
        visit: Callable[..., Visit], live_server: LiveServer, tmp_path: Path) -> None:
    _campaign(live_server)
    secret = _agent(live_server)
    v = visit()
    page = v.page
    login_agent(v, secret)

    # upload the two exports, the dry run (a job: the page refreshes itself)
    v.goto(f"/etablissement/{UAI}/{SLUG}/imports")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Importer les élèves et les familles")
    v.check("imports")
    page.get_by_label("Fichiers à importer").set_input_files(sorted(DEMO.glob("*.xml")))
    page.get_by_role("button", name="Lancer la simulation").click()
    state = page.locator("#etat-import")
    expect(state).to_have_text("Simulation terminée : à confirmer", timeout=60_000)
    counts = page.locator("#compteurs")
    expect(counts).to_contain_text("élèves")
    expect(page.get_by_role("main")).to_contain_text("hors du public de la campagne")
    v.check("import - simulation")
    assert "4" in counts.locator("tr").filter(has_text="élèves").inner_text()

    page.get_by_role("button", name="Confirmer l'import").click()
    expect(state).to_have_text("Importé", timeout=60_000)
    expect(page.get_by_role("heading", name="Ce qui a été importé")).to_be_visible()
    v.check("import - termine")
    with page.expect_download() as pdf_download:
        page.get_by_role("link", name="Courriers aux familles (PDF)").click()
    letters = pdf_download.value.path()
    text = "\n".join(p.extract_text() for p in PdfReader(str(letters)).pages)
    with page.expect_download() as csv_download:
        page.get_by_role("link", name="Fichier de publipostage (CSV)").click()
    rows = list(csv.DictReader(io.StringIO(Path(csv_download.value.path()).read_text(
        "utf-8-sig")), delimiter=";"))
    assert len(rows) == 4
    sophie = next(r for r in rows if r["responsable"] == "Sophie DURAND")
    assert sophie["identifiant"] in text and sophie["code_secret"] in text

    # the family logs in with its letter and changes a phone
    f = visit()
    f.goto("/connexion")
    f.page.get_by_label("Identifiant").fill(sophie["identifiant"])
    f.page.get_by_label("Code secret").fill(sophie["code_secret"])
    f.page.get_by_role("button", name="Se connecter").click()
    expect(f.page).to_have_url(f.base_url + "/mes-dossiers")
    f.page.get_by_role("listitem").filter(has_text="Hugo").get_by_role("link").first.click()
    dossier_url = f.page.url
    public_id = re.search(r"/dossier/([^/]+)", dossier_url)
    assert public_id is not None
    f.goto(f"/dossier/{public_id.group(1)}/etape/famille")
    guardian = group(f.page, "Responsable légal 1")
    guardian.get_by_label("Téléphone portable").fill("07 11 22 33 44")
    f.page.get_by_role("button", name="Enregistrer et finir plus tard").click()
    expect(f.page.get_by_role("status")).to_contain_text("Vos réponses sont enregistrées")
    assert _validate(live_server, sophie["identifiant"]) == public_id.group(1)

    # the changes only: exactly that field
    v.goto(f"{BASE}/exports")
    expect(page.get_by_role("heading", level=1)).to_have_text("Exports")
    page.get_by_role("row").filter(has_text="Modifications seulement").get_by_role(
        "button", name="XLSX", exact=True).click()
    changes = _job_file(page, ".xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(changes), read_only=True).worksheets[0]
    table = [list(r) for r in sheet.iter_rows(values_only=True)]
    header, *lines = table
    assert header[:8] == ["Nom", "Prénom", "Classe", "Page", "Champ", "Avant",
                          "Origine de l'avant", "Après"]
    assert len(lines) == 1, lines
    last, first, _division, _page, field, before, origin, after = lines[0][:8]
    assert (last, first, after) == ("DURAND", "Hugo", "07 11 22 33 44")
    assert "Téléphone portable" in str(field)
    assert str(before).replace(" ", "").endswith("612345601")
    assert "ResponsablesAvecAdresses.xml" in str(origin)

    # the SIECLE return: the validated dossier, with the new phone
    v.goto(f"{BASE}/exports/siecle")
    page.get_by_role("button", name="Préparer le fichier SIECLE (ZIP)").click()
    siecle = _job_file(page, ".zip")
    with zipfile.ZipFile(io.BytesIO(siecle)) as archive:
        (name,) = archive.namelist()
        assert name.startswith(f"{UAI}PRIVE") and name.endswith(".xml")
        xml = archive.read(name).decode("iso-8859-15")
    assert "0711223344" in xml.replace(" ", "") or "+33711223344" in xml
