"""Login and the dashboard in a real browser: wrong code refused, the child's dossier listed."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import expect

from .conftest import Visit
from .family import Family

pytestmark = pytest.mark.browser


def login(visit: Visit, family: Family, code: str | None = None) -> None:
    """Fill the login form as a guardian types it from the school's letter."""
    visit.page.get_by_label("Identifiant").fill(family.login)
    visit.page.get_by_label("Code secret").fill(code or family.code)
    visit.page.get_by_role("button", name="Se connecter").click()


def test_login_then_dashboard_then_logout(visit: Callable[..., Visit], family: Family) -> None:
    v = visit()
    v.goto("/")
    expect(v.page).to_have_url(v.base_url + "/connexion")
    expect(v.page.get_by_role("heading", level=1)).to_have_text("Connexion")
    v.check("connexion")

    login(v, family, code="0000-0000-0000")
    expect(v.page.get_by_role("alert")).to_contain_text("Identifiant ou code secret incorrect")
    v.check("connexion refusee")

    login(v, family)
    expect(v.page).to_have_url(v.base_url + "/mes-dossiers")
    card = v.page.get_by_role("listitem").filter(has_text="Léa MARTIN")
    expect(card).to_contain_text("Réinscription 2027-2028 au collège Jean Moulin")
    v.check("mes dossiers")

    v.page.get_by_role("button", name="Se déconnecter").click()
    expect(v.page).to_have_url(v.base_url + "/connexion")
    expect(v.page.get_by_role("status")).to_contain_text("Vous êtes déconnecté")
    v.goto("/mes-dossiers")
    expect(v.page).to_have_url(v.base_url + "/connexion?next=%2Fmes-dossiers")


@pytest.mark.parametrize("scripts", [True, False], ids=["js", "nojs"])
def test_the_accessibility_check_reports_violations(visit: Callable[..., Visit],
                                                    scripts: bool) -> None:
    """The axe-core check is live, with scripts or without: a page with an unlabelled field
    and an image without text alternative fails it."""
    v = visit(scripts=scripts)
    v.goto("/connexion")
    v.page.set_content('<html lang="fr"><head><title>t</title></head><body><main><h1>t</h1>'
                       '<img src="/static/css/app.css"><input type="text"></main></body></html>')
    with pytest.raises(AssertionError, match=r"image-alt .*\n.*label|label .*\n.*image-alt"):
        v.check("violations")
