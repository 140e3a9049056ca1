"""A family's whole journey through a served app (the demo's campaign), for the serving tests."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlencode

from faults.httpkit import ROW_VERSION, Browser
from web.wizardkit import PAGES, VALID_PAGES, form_values

PDF = (Path(__file__).resolve().parents[2] / "campaigns" / "files" /
       "reglement-interieur.pdf").read_bytes()
#: the documents every family of the example campaign must send
REQUIRED_DOCUMENTS = ("attestation_assurance", "fiche_infirmerie", "reglement_interieur")
#: a line of the demo's accounts: name, identifier, code, (children)
DEMO_ACCOUNT = re.compile(r"^  Karim BENALI +(\w+) +([\w-]+) +\(", re.MULTILINE)


def _posted(browser: Browser, path: str, data: dict[str, list[str]]) -> tuple[int, str]:
    return browser.request(path, urlencode(data, doseq=True).encode(),
                           "application/x-www-form-urlencoded")


def complete_journey(browser: Browser, public_id: str) -> None:
    """Every wizard page posted with valid answers, the documents sent, the dossier sent."""
    base = f"/dossier/{public_id}"
    for page_id in PAGES:
        status, page = browser.request(f"{base}/etape/{page_id}")
        assert status == 200, (page_id, status)
        data = form_values(page)
        data.update({name: [str(value)] for name, value in VALID_PAGES.get(page_id, {}).items()})
        status, after = _posted(browser, f"{base}/etape/{page_id}", {**data, "action": ["next"]})
        assert status == 302, (page_id, status, after[:2000])
    for document in REQUIRED_DOCUMENTS:
        status, _page = browser.upload(f"{base}/documents/{document}/fichiers",
                                       {"page": "pieces"}, f"{document}.pdf", PDF,
                                       f"{base}/etape/pieces")
        assert status == 303, (document, status)
    status, review = browser.request(f"{base}/recapitulatif")
    version = ROW_VERSION.search(review)
    assert status == 200 and version, review[:2000]
    status, _page = browser.post(f"{base}/envoyer", {"row_version": version.group(1)},
                                 f"{base}/recapitulatif")
    assert status == 302, status
