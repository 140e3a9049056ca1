"""The locust file of the load test (run by ``tests/benchmarks/run_load.py``, which seeds the
families, starts ``dossiersco serve`` and checks the writes afterwards; see
docs/performance.md).

``FamilyUser``: one guardian each, with their own login and code (``LOAD_CREDENTIALS``, a JSON
file written by the runner): logs in, walks every wizard page (GET, then POST of valid
answers), uploads the campaign's three required documents, reviews and submits, with 1–3 s of
thought between steps, then stops. ``StaffUser``: an agent logs in (password, then TOTP) and
works the dossier list and dossier views until every family is done. The run ends when the
last family has stopped (``--run-time`` bounds it anyway); each family's outcome is written
to ``LOAD_OUTCOMES`` for the runner's check of lost writes.
"""

from __future__ import annotations

import json
import os
import random
import re
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import gevent
import pyotp
from locust import FastHttpUser, events, task
from locust.env import Environment
from locust.exception import StopUser
from locust.runners import Runner

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "web"))

from wizardkit import PAGES, VALID_PAGES, form_values  # noqa: E402

CREDENTIALS: dict[str, Any] = json.loads(Path(os.environ["LOAD_CREDENTIALS"]).read_text())
OUTCOMES = Path(os.environ["LOAD_OUTCOMES"])
THINK = (1.0, 3.0)
PDF = (Path(__file__).resolve().parents[2] / "campaigns" / "files" /
       "reglement-interieur.pdf").read_bytes()
REQUIRED_DOCUMENTS = ("attestation_assurance", "fiche_infirmerie", "reglement_interieur")
CSRF = re.compile(r'name="csrf_token"[^>]*?value="([^"]+)"')
ROW_VERSION = re.compile(r'name="row_version" value="(\d+)"')
DOSSIER_LINK = re.compile(r'/etablissement/\w+/dossier/([\w-]{22,32})"')

_families = iter(CREDENTIALS["families"])
_staff = iter(CREDENTIALS["staff"])
outcomes: list[dict[str, Any]] = []


def _form(fields: dict[str, Any]) -> dict[str, Any]:
    """The keyword arguments posting ``fields`` (a value or a list of values per name) as a
    form: geventhttpclient encodes a dict without ``doseq``."""
    return {"data": urlencode(fields, doseq=True),
            "headers": {"Content-Type": "application/x-www-form-urlencoded"}}


def _think() -> None:
    gevent.sleep(random.uniform(*THINK))


def _token(html: str) -> str:
    match = CSRF.search(html)
    if match is None:
        raise StopUser()
    return match.group(1)


class FamilyUser(FastHttpUser):
    """One guardian's whole journey, once."""

    weight = 40

    @task
    def journey(self) -> None:
        family = next(_families, None)
        if family is None:
            raise StopUser()
        outcome: dict[str, Any] = {"dossier": family["dossier"], "submitted": False,
                                   "uploads": []}
        outcomes.append(outcome)
        try:
            self._journey(family, outcome)
        finally:
            outcome["done"] = True
        raise StopUser()

    def _journey(self, family: dict[str, str], outcome: dict[str, Any]) -> None:
        client = self.client
        html = client.get("/connexion", name="login page").text
        _think()
        with client.post("/connexion", name="login", allow_redirects=False, catch_response=True,
                         **_form({"csrf_token": _token(html), "login": family["login"],
                                  "code": family["code"]})) as response:
            if response.status_code != 302:
                response.failure(f"login answered {response.status_code}")
                return
        base = f"/dossier/{family['dossier']}"
        client.get("/mes-dossiers", name="dashboard")
        for page_id in PAGES:
            _think()
            page = client.get(f"{base}/etape/{page_id}", name="wizard page (GET)")
            if page.status_code != 200:
                return
            data = form_values(page.text)
            for name, value in VALID_PAGES.get(page_id, {}).items():
                data[name] = [str(value)]
            data["action"] = ["next"]
            with client.post(f"{base}/etape/{page_id}", **_form(data), name="wizard save (POST)",
                             allow_redirects=False, catch_response=True) as saved:
                if saved.status_code != 302:
                    saved.failure(f"save of {page_id} answered {saved.status_code}")
                    return
        token = _token(page.text)
        for document_id in REQUIRED_DOCUMENTS:
            _think()
            name = f"{document_id}-{family['login']}.pdf"
            with client.post(f"{base}/documents/{document_id}/fichiers", name="upload",
                             data={"csrf_token": token}, files={"fichier": (name, PDF,
                                                                            "application/pdf")},
                             allow_redirects=False, catch_response=True) as uploaded:
                if uploaded.status_code != 303:
                    uploaded.failure(f"upload answered {uploaded.status_code}")
                    return
            outcome["uploads"].append(name)
        _think()
        review = client.get(f"{base}/recapitulatif", name="review")
        version = ROW_VERSION.search(review.text)
        if version is None:
            return
        _think()
        with client.post(f"{base}/envoyer", name="submit", allow_redirects=False,
                         catch_response=True, **_form({"csrf_token": _token(review.text),
                                                       "row_version": version.group(1)})) as sent:
            if sent.status_code != 302:
                sent.failure(f"submit answered {sent.status_code}")
                return
        outcome["submitted"] = True
        client.get(f"{base}/confirmation", name="confirmation")


class StaffUser(FastHttpUser):
    """An agent following the campaign: the list (filters), then dossiers."""

    weight = 1
    fixed_count = len(CREDENTIALS["staff"])

    def on_start(self) -> None:
        agent = next(_staff)
        self.base = f"/etablissement/{CREDENTIALS['uai']}"
        self.slug = CREDENTIALS["slug"]
        client = self.client
        html = client.get("/etablissement/connexion", name="staff login page").text
        client.post("/etablissement/connexion", name="staff login", allow_redirects=False,
                    **_form({"csrf_token": _token(html), "email": agent["email"],
                             "password": agent["password"]}))
        # a code that waited too long in the server's queue is out of its 30 s: type the next
        for _attempt in range(3):
            html = client.get("/etablissement/connexion/code", name="staff login page").text
            with client.post("/etablissement/connexion/code", name="staff login",
                             allow_redirects=False, catch_response=True,
                             **_form({"csrf_token": _token(html),
                                      "code": pyotp.TOTP(agent["totp"]).now()})) as response:
                if response.status_code == 302:
                    break
                response.failure(f"second factor answered {response.status_code}")
            gevent.sleep(30)
        else:
            raise StopUser()
        self.seen: list[str] = []

    def wait_time(self) -> float:
        return random.uniform(*THINK)

    @task(2)
    def dossier_list(self) -> None:
        query = random.choice(["", "?etat=submitted", "?modifie=1", "?q=ELEVE"])
        page = self.client.get(f"{self.base}/{self.slug}/dossiers{query}", name="staff list")
        self.seen = DOSSIER_LINK.findall(page.text) or self.seen

    @task(3)
    def dossier_view(self) -> None:
        if self.seen:
            self.client.get(f"{self.base}/dossier/{random.choice(self.seen)}",
                            name="staff dossier")


def _stop_when_families_are_done(runner: Runner) -> None:
    """Quit once every family has run its journey (the staff users loop until then)."""
    total = len(CREDENTIALS["families"])
    while sum(1 for o in outcomes if o.get("done")) < total:
        gevent.sleep(0.5)
    runner.quit()


@events.init.add_listener
def _on_init(environment: Environment, **_kwargs: Any) -> None:
    if environment.runner is not None:
        gevent.spawn(_stop_when_families_are_done, environment.runner)


@events.quitting.add_listener
def _on_quitting(**_kwargs: Any) -> None:
    OUTCOMES.write_text(json.dumps(outcomes))
