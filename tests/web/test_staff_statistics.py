"""The statistics page and the dashboard's figures, on the campaign of tests/statskit.py:
the reported figures readable as they are, charts drawn on the server with a title, a
description and their data as a table, comments only for roles that read dossiers."""

from __future__ import annotations

import html as html_module
import re
from collections.abc import Callable
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from conftest import MakeDossier, MakeStaff, _csrf_token
from staffkit import StaffUser
from statskit import reported_figures

BASE = "/etablissement/0750001A"
NBSP = "\u00a0"


def _text(html: str) -> str:
    """The page's words, one space apart (no-break spaces kept: French figures use them)."""
    return html_module.unescape(re.sub(r"[ \t\r\n]+", " ", re.sub(r"<[^>]+>", " ", html)))


def test_the_statistics_page(client: FlaskClient, db_session: Session, make_dossier: MakeDossier,
                             make_account: Callable[..., Any], make_staff: MakeStaff,
                             staff_login: Callable[[StaffUser], TestResponse]) -> None:
    reported_figures(db_session, make_dossier, make_account)
    staff_login(make_staff(role="lecture"))
    page = client.get(f"{BASE}/reinscription-2026/statistiques")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    text = _text(html)
    assert f"Taux de retour 98{NBSP}% : 49 dossiers envoyés sur 50" in text
    assert f"Note moyenne 4,5{NBSP}/{NBSP}5 (40 notes)" in text
    assert f"80{NBSP}% des dossiers envoyés (39 sur 49)" in text
    assert f"65{NBSP}% des notes sont accompagnées d'un commentaire" in text
    assert f"25{NBSP}min" in text
    assert "Téléphone portable de l'élève 3" in text
    assert "Document illisible 2" in text and "Document périmé 1" in text
    # the chart: SVG named by its title and description, the same figures in a table
    assert 'role="img" aria-labelledby="envois-titre envois-desc"' in html
    assert '<title id="envois-titre">Dossiers envoyés par jour</title>' in html
    assert html.count("<rect ") == 3 + 5  # three days, five scores
    assert f"01/06/2027 17 34{NBSP}% 34{NBSP}%" in text
    assert f"03/06/2027 16 32{NBSP}% 98{NBSP}%" in text
    assert "<script" not in html.split("<main", 1)[1]


def test_the_dashboard_progress_satisfaction_and_comments(
        client: FlaskClient, db_session: Session, make_dossier: MakeDossier,
        make_account: Callable[..., Any], make_staff: MakeStaff,
        staff_login: Callable[[StaffUser], TestResponse]) -> None:
    reported_figures(db_session, make_dossier, make_account)
    staff_login(make_staff(role="secretariat"))
    html = client.get(f"{BASE}/reinscription-2026/").get_data(as_text=True)
    text = _text(html)
    assert '<title id="avancement-courbe-titre">' in html
    assert f"03/06/2027 49 98{NBSP}%" in text
    assert f"Note moyenne : 4,5{NBSP}/{NBSP}5 (40 notes ; 80{NBSP}% des dossiers envoyés notés)" \
        in text
    assert "Derniers commentaires" in text and "Très pratique" in text
    # the title is the page's title, nothing else (the exports link once sat in it)
    assert re.search(r"<title>[^<]*tableau de bord – DossierSCO</title>", html)


def test_comments_need_to_read_dossiers_and_the_establishment_page(
        client: FlaskClient, db_session: Session, make_dossier: MakeDossier,
        make_account: Callable[..., Any], make_staff: MakeStaff,
        staff_login: Callable[[StaffUser], TestResponse]) -> None:
    reported_figures(db_session, make_dossier, make_account)
    make_dossier(campaign="autre-campagne", title="Autre campagne")
    staff_login(make_staff("infirmiere@college.fr", role="infirmerie"))
    html = client.get(f"{BASE}/reinscription-2026/").get_data(as_text=True)
    assert "Note moyenne" in html and "Très pratique" not in html
    assert client.get(f"{BASE}/statistiques").status_code == 403
    client.post("/etablissement/deconnexion",
                data={"csrf_token": _csrf_token(client, "/etablissement/")})
    staff_login(make_staff("direction@college.fr", role="direction"))
    text = _text(client.get(f"{BASE}/statistiques").get_data(as_text=True))
    assert f"Jean Moulin 51 98{NBSP}% 40 4,5{NBSP}/{NBSP}5 80{NBSP}% 65{NBSP}% 25{NBSP}min" in text
    assert f"Taux de retour 96{NBSP}% : 49 dossiers envoyés sur 51" in text  # both campaigns
