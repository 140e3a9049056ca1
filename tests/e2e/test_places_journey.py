"""Choices with places and the live fee schedule in Chromium: the family reads that the section
européenne is a request the school decides, and watches the canteen fee split in three
instalments as it picks a regime; the agent decides the request on the decisions page; the
family reads the decision. Each page is checked by axe-core and photographed (360, 1280 px).
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import expect

from .conftest import LiveServer, Visit
from .family import Family
from .test_login import login
from .test_staff_journey import BASE, _agent, _submit, login_agent

pytestmark = pytest.mark.browser


def test_a_request_for_a_limited_option_and_the_live_schedule(
        visit: Callable[..., Visit], family: Family, live_server: LiveServer) -> None:
    secret = _agent(live_server)
    f = visit()
    f.goto("/connexion")
    login(f, family)

    f.goto(f"/dossier/{family.dossier_public_id}/etape/scolarite")
    option = f.page.get_by_label(re.compile("Section européenne anglais"))
    expect(f.page.locator(".choice__request")).to_have_text(
        "Demande soumise à l'accord de l'établissement, 24 places")
    option.check()
    f.check("options - demande a places limitees")
    f.page.get_by_role("button", name="Enregistrer et finir plus tard").click()

    # the schedule follows the answers live, without a reload
    f.goto(f"/dossier/{family.dossier_public_id}/etape/restauration")
    loads = f.loads
    schedule = f.page.locator("[data-fees-schedule]")
    expect(schedule).to_be_hidden()
    f.page.get_by_label(re.compile("Demi-pensionnaire 4 jours")).check()
    f.page.get_by_label("Quotient familial CAF").fill("700")
    expect(schedule).to_be_visible()
    dues = schedule.locator(".fees__item")
    expect(dues).to_have_count(3)
    expect(dues.nth(0)).to_contain_text("Premier trimestre (décembre)")
    f.check("restauration - echeancier en direct")
    assert f.loads == loads
    f.page.get_by_role("button", name="Enregistrer et finir plus tard").click()
    _submit(live_server, family.dossier_public_id)

    v = visit()
    login_agent(v, secret)
    v.goto(f"{BASE}/places")
    page = v.page
    expect(page.locator(".places-count")).to_contain_text("0 / 24")
    row = page.locator("table.staff-table tbody tr").filter(has_text="Léa")
    expect(row).to_contain_text("demandé")
    v.check("demandes a places limitees")
    row.get_by_role("button", name=re.compile("^Accepter")).click()
    expect(page.get_by_role("status")).to_contain_text("1 décision enregistrée (accepté)")
    expect(page.locator(".places-count")).to_contain_text("1 / 24")
    v.check("demande acceptee")

    f.goto(f"/dossier/{family.dossier_public_id}/recapitulatif")
    expect(f.page.locator(".school-request").filter(has_text="Section européenne")).to_contain_text(
        "accepté")
    f.check("recapitulatif - demande acceptee")
