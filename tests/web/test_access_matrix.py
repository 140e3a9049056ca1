"""The access matrix: every route of ``app.url_map`` × every principal (each staff role, the
deployment administrator, a family, anonymous) × own establishment / another establishment /
another establishment's dossier reached through one's own, on each database backend.

``ACCESS`` says what each endpoint needs: a :class:`Permission` in the establishment of the
URL, ``STAFF`` (any logged-in agent), ``FAMILY`` (a guardian of the dossier of the URL),
``FAMILY_LOGIN`` (any logged-in family) or ``PUBLIC``. The expected answer follows from it and
from ``ROLE_PERMISSIONS``: allowed; 404 for another establishment (or its dossier, or another
family's); 403 in one's own establishment without the permission; the staff login page for
anonymous and family requests to staff routes, the family login page for anonymous and staff
requests to family routes. A new route without an entry fails the test with its name.

Every POST carries a valid CSRF token (and a stale ``row_version`` where there is one), so
the access check alone decides; denied answers never carry the other pupil's name.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum
from typing import Any, Final

import pytest
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image
from sqlalchemy.orm import Session
from werkzeug.routing import Rule
from werkzeug.test import TestResponse

from engine.db import utcnow
from engine.dossiers.models import (
    Dossier,
    Establishment,
    ImportRun,
    ImportState,
    StaffRole,
    StoredFile,
)
from engine.dossiers.permissions import ADMIN_PERMISSIONS, ROLE_PERMISSIONS, Permission
from engine.dossiers.staff import create_staff, grant_role
from engine.jobs.models import Job, JobState
from engine.web.state import app_state

from conftest import CSRF_INPUT, MakeAccount, MakeDossier, MakeStaff
from staffkit import StaffUser

#: id attributes of a page, and the row templates (<template>) whose ids repeat on purpose
ID_ATTR: Final = re.compile(r'\sid="([^"]+)"')
TEMPLATE_TAG: Final = re.compile(r"<template\b.*?</template>", re.S)


class Access(StrEnum):
    PUBLIC = "public"
    #: any fully logged-in agent, no establishment in the URL
    STAFF = "staff"
    #: a guardian of the dossier in the URL
    FAMILY = "family"
    #: any logged-in family
    FAMILY_LOGIN = "family-login"


P = Permission
A = Access

#: what every endpoint needs; a route missing here fails the test
ACCESS: Final[Mapping[str, Permission | Access]] = {
    # family side
    "auth.index": A.PUBLIC,
    "auth.login": A.PUBLIC,
    "auth.logout": A.PUBLIC,
    "invitations.accept": A.PUBLIC,
    "static": A.PUBLIC,
    "field_assets.script": A.PUBLIC,
    "status.health": A.PUBLIC,
    "family.dashboard": A.FAMILY_LOGIN,
    "family.dossier": A.FAMILY,
    "wizard.page": A.FAMILY,
    "wizard.save": A.FAMILY,
    "wizard.dispute": A.FAMILY,
    "wizard.review": A.FAMILY,
    "wizard.recap": A.FAMILY,
    "wizard.submit": A.FAMILY,
    "wizard.confirmation": A.FAMILY,
    "wizard.rate": A.FAMILY,
    "documents.upload": A.FAMILY,
    "documents.replace": A.FAMILY,
    "documents.delete": A.FAMILY,
    "documents.declare_date": A.FAMILY,
    "documents.download": A.FAMILY,
    "documents.thumbnail": A.FAMILY,
    "documents.template_file": A.FAMILY,
    "privacy.notice_index": A.PUBLIC,
    "privacy.notice": A.PUBLIC,
    "privacy.my_data": A.FAMILY_LOGIN,
    "privacy.my_data_json": A.FAMILY_LOGIN,
    "privacy.my_data_pdf": A.FAMILY_LOGIN,
    # school side: login steps
    "staff.login": A.PUBLIC,
    "staff.second_factor": A.PUBLIC,
    "staff.enrol": A.PUBLIC,
    "staff.set_password": A.PUBLIC,
    "staff.logout": A.PUBLIC,
    "staff.home": A.STAFF,
    "staff.recovery_codes": A.STAFF,
    "staff.logout_everywhere": A.STAFF,
    # school side: an establishment's pages
    "staff.dashboard": P.LIST_DOSSIERS,
    "staff.dossiers": P.LIST_DOSSIERS,
    "staff.bulk_validation": P.REVIEW_DOSSIERS,
    "staff.dossier": P.READ_DOSSIERS,
    "staff.preview": P.READ_DOSSIERS,
    "staff.download": P.READ_DOSSIERS,
    "staff.send_back_route": P.REVIEW_DOSSIERS,
    "staff.validate_route": P.REVIEW_DOSSIERS,
    "staff.leaving_route": P.REVIEW_DOSSIERS,
    "staff.decide_route": P.REVIEW_DOSSIERS,
    "staff.agents_list": P.MANAGE_STAFF,
    "staff.invite_agent": P.MANAGE_STAFF,
    "staff.change_agent_role": P.MANAGE_STAFF,
    "staff.remove_agent": P.MANAGE_STAFF,
    "staff.send_agent_reset": P.MANAGE_STAFF,
    "staff.reset_agent_second_factor": P.MANAGE_STAFF,
    "staff.unlock_agent": P.MANAGE_STAFF,
    "staff.audit_log": P.READ_AUDIT,
    "documents.overview": A.FAMILY,
    "staff.bulk_mef": P.REVIEW_DOSSIERS,
    "staff.places": P.REVIEW_DOSSIERS,
    "staff.set_staff_field": P.REVIEW_DOSSIERS,
    "staff.correct": P.REVIEW_DOSSIERS,
    "staff.correct_health": P.READ_HEALTH,
    "staff.upload_on_behalf": P.REVIEW_DOSSIERS,
    "staff.messages": P.MESSAGE_FAMILIES,
    "staff.reminder": P.MESSAGE_FAMILIES,
    "staff.paper_letters": P.MESSAGE_FAMILIES,
    "staff.family_message": P.MESSAGE_FAMILIES,
    "staff.list_reminder": P.MESSAGE_FAMILIES,
    "staff.jobs": P.LIST_DOSSIERS,
    "staff.health": P.READ_HEALTH,
    "staff.exports": P.EXPORT,
    "staff.export_table": P.EXPORT,
    "staff.export_documents": P.EXPORT,
    "staff.siecle": P.EXPORT,
    "staff.export_siecle": P.EXPORT,
    "staff.export_recaps": P.EXPORT,
    "staff.export_letters": P.EXPORT,
    # printed for the nurse's sealed envelope: the infirmerie's, like the health pages
    "staff.export_infirmary": P.READ_HEALTH,
    # a job's page and file need its kind's permission too: the world's job is a reminder
    "staff.job": P.MESSAGE_FAMILIES,
    "staff.job_file": P.MESSAGE_FAMILIES,
    "staff.rerun_job": P.MESSAGE_FAMILIES,
    # imports from the web (direction, secrétariat)
    "staff.imports": P.IMPORT,
    "staff.start_import": P.IMPORT,
    "staff.import_run": P.IMPORT,
    "staff.confirm_import": P.IMPORT,
    "staff.cancel_import": P.IMPORT,
    "staff.import_letters": P.IMPORT,
    "staff.import_csv": P.IMPORT,
    "staff.statistics": P.LIST_DOSSIERS,
    # every campaign of the establishment together: direction and the deployment administrator
    "staff.establishment_statistics": P.MANAGE_CAMPAIGNS,
}

#: endpoints that end what later requests of the same principal rely on (a file, an agent's
#: role, every session — a logout revokes on the server): requested after all the others, in
#: this order
LAST: Final = ("staff.remove_agent", "documents.delete", "auth.logout",
                "staff.logout_everywhere", "staff.logout")

ROLES: Final = [role.value for role in StaffRole]
PRINCIPALS: Final = [*ROLES, "admin", "anonymous", "family"]
OWN, OTHER = "0750001A", "0750002B"
OTHER_PUPIL: Final = "Zéphyrine"
#: URL values some endpoints need instead of the common ones
VALUES_OF: Final[Mapping[str, Mapping[str, str]]] = {
    # the document of the example campaign that has a template to download
    "documents.template_file": {"document_id": "fiche_infirmerie"},
    "staff.export_table": {"kind": "dossiers", "fmt": "csv"},
}
#: posted to every POST route: well-formed, harmless (a stale version changes nothing)
POST_DATA: Final = {"row_version": "999999", "role": "lecture", "message": "Merci",
                    "reason": "Déménagement", "action": "save", "score": "5", "decision": ""}


def access_of(endpoint: str) -> Permission | Access:
    """The entry of ``endpoint``, failing loudly when the table lacks it."""
    try:
        return ACCESS[endpoint]
    except KeyError:
        pytest.fail(f"the route {endpoint!r} has no entry in ACCESS "
                    "(tests/web/test_access_matrix.py): say which Permission it needs, or "
                    "FAMILY, FAMILY_LOGIN, STAFF, PUBLIC", pytrace=False)


class Seen(StrEnum):
    ALLOWED = "allowed"
    FORBIDDEN = "403"
    NOT_FOUND = "404"
    STAFF_LOGIN = "staff login"
    FAMILY_LOGIN = "family login"
    #: a rate limit answered before the access check: the matrix must never meet one
    THROTTLED = "429"
    #: public routes: whatever the page answers (below 500, never 403)
    ANY = "any"


def seen(response: TestResponse) -> Seen:
    """A login redirect sends back where the request was going (``next``): the redirect of a
    logout to the login page is an allowed answer."""
    location = response.headers.get("Location", "")
    if response.status_code == 302 and "next=" in location:
        if location.startswith("/etablissement/connexion"):
            return Seen.STAFF_LOGIN
        if location.startswith("/connexion"):
            return Seen.FAMILY_LOGIN
    return {403: Seen.FORBIDDEN, 404: Seen.NOT_FOUND, 429: Seen.THROTTLED}.get(
        response.status_code, Seen.ALLOWED)


def expected(access: Permission | Access, principal: str, context: str) -> Seen:
    """What ``principal`` must get on a route needing ``access`` in ``context``: "own" (their
    establishment, their family's dossier), "other" (another establishment, another family's
    dossier), "crossed" (another establishment's dossier or agent through their own UAI)."""
    if access is Access.PUBLIC:
        return Seen.ANY
    staff = principal in ROLES or principal == "admin"
    if access in (Access.FAMILY, Access.FAMILY_LOGIN):
        if principal != "family":
            return Seen.FAMILY_LOGIN
        return Seen.ALLOWED if access is Access.FAMILY_LOGIN or context == "own" \
            else Seen.NOT_FOUND
    if not staff:
        return Seen.STAFF_LOGIN
    if access is Access.STAFF:
        return Seen.ALLOWED
    assert isinstance(access, Permission)
    if principal == "admin":
        granted = access in ADMIN_PERMISSIONS
        if not granted:
            return Seen.FORBIDDEN
        return Seen.NOT_FOUND if context == "crossed" else Seen.ALLOWED
    if context == "other":
        return Seen.NOT_FOUND
    if access not in ROLE_PERMISSIONS[StaffRole(principal)]:
        return Seen.FORBIDDEN
    return Seen.NOT_FOUND if context == "crossed" else Seen.ALLOWED


def test_every_route_has_an_entry_and_every_entry_a_route(app: Flask) -> None:
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    missing = sorted(endpoints - ACCESS.keys())
    assert not missing, f"routes without an entry in ACCESS: {missing}"
    assert not sorted(ACCESS.keys() - endpoints), "entries of ACCESS without a route"
    assert set(LAST) <= endpoints


def test_the_expectations_follow_the_role_table() -> None:
    """Spot checks of :func:`expected` itself against ``ROLE_PERMISSIONS``."""
    assert expected(P.MANAGE_STAFF, "direction", "own") is Seen.ALLOWED
    assert expected(P.MANAGE_STAFF, "secretariat", "own") is Seen.FORBIDDEN
    assert expected(P.READ_DOSSIERS, "infirmerie", "own") is Seen.FORBIDDEN
    assert expected(P.READ_DOSSIERS, "lecture", "other") is Seen.NOT_FOUND
    assert expected(P.READ_AUDIT, "admin", "other") is Seen.ALLOWED
    assert expected(P.READ_HEALTH, "admin", "own") is Seen.FORBIDDEN
    assert expected(A.FAMILY, "direction", "own") is Seen.FAMILY_LOGIN
    assert expected(A.STAFF, "family", "own") is Seen.STAFF_LOGIN


# -- the world the matrix runs in -------------------------------------------------------------

@dataclass
class Place:
    """One establishment's objects the URLs point at."""

    establishment: Establishment
    slug: str
    dossier: Dossier
    file: StoredFile
    #: a finished reminder job with its result file
    job: Job
    #: a finished import from the web with its letters
    imported: ImportRun
    #: per principal, an agent of this establishment they may act on
    targets: dict[str, int] = field(default_factory=dict)


@dataclass
class Principal:
    name: str
    client: FlaskClient
    csrf: str
    cookie: str | None

    def request(self, method: str, url: str, app: Flask) -> TestResponse:
        """The request on the session as it was after login (a logout, a cleared session,
        a pending step never carry over to the next request)."""
        cookie_name = app.config["SESSION_COOKIE_NAME"]
        if self.cookie is None:
            self.client.delete_cookie(cookie_name)
        else:
            self.client.set_cookie(cookie_name, self.cookie)
        if method == "GET":
            return self.client.get(url)
        return self.client.post(url, data={"csrf_token": self.csrf, **POST_DATA})


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Flask:
    """The app, with a login limit the matrix's hundreds of requests never reach."""
    return make_app(login_rate_limit="10000/minute")


def _png_file(app: Flask, db_session: Session, dossier: Dossier) -> StoredFile:
    data = io.BytesIO()
    Image.new("RGB", (60, 40), "white").save(data, "PNG")
    stored = StoredFile(dossier_id=dossier.id, document_id="justificatif_domicile",
                        storage_key=app_state(app).storage.put(data.getvalue()),
                        filename="facture.png", sha256="0" * 64, size=len(data.getvalue()),
                        mime_type="image/png")
    db_session.add(stored)
    db_session.commit()
    return stored


def _done_job(app: Flask, db_session: Session, dossier: Dossier, slug: str) -> Job:
    """A reminder job of the dossier's establishment, done, with a result file (as the queue
    leaves one)."""
    job = Job(kind="reminders", establishment_id=dossier.pupil.establishment_id,
              campaign_slug=slug, params={}, state=JobState.DONE.value, progress_done=1,
              progress_total=1, result_key=app_state(app).storage.put(b"rapport"),
              result_name="rapport.txt", result_size=7, result_mime="text/plain",
              finished_at=utcnow())
    db_session.add(job)
    db_session.commit()
    return job


def _done_import(app: Flask, db_session: Session, dossier: Dossier, slug: str) -> ImportRun:
    """An import of the dossier's establishment, done, with its letters (as the job leaves
    them)."""
    storage = app_state(app).storage
    run = ImportRun(establishment_id=dossier.pupil.establishment_id, campaign_slug=slug,
                    state=ImportState.DONE.value, files=[], reader="auto", report={},
                    letters_key=storage.put(b"%PDF-1.4"), csv_key=storage.put(b"a;b\n"),
                    expires_at=utcnow() + timedelta(days=1), finished_at=utcnow())
    db_session.add(run)
    db_session.commit()
    return run


def _csrf_of(client: FlaskClient, path: str) -> str:
    match = CSRF_INPUT.search(client.get(path).get_data(as_text=True))
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def _client(app: Flask, n: int) -> FlaskClient:
    """A browser of its own address: per-address rate limits never mix principals."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = f"127.0.0.{n + 1}"
    return client


def _staff_client(app: Flask, user: StaffUser, n: int) -> FlaskClient:
    client = _client(app, n)
    token = _csrf_of(client, "/etablissement/connexion")
    response = client.post("/etablissement/connexion", data={
        "csrf_token": token, "email": user.account.email, "password": user.password})
    assert response.status_code == 302
    token = _csrf_of(client, "/etablissement/connexion/code")
    response = client.post("/etablissement/connexion/code",
                           data={"csrf_token": token, "code": user.totp()})
    assert response.status_code == 302
    return client


def _principal(app: Flask, name: str, client: FlaskClient, csrf_page: str) -> Principal:
    csrf = _csrf_of(client, csrf_page)
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    return Principal(name, client, csrf, cookie.value if cookie is not None else None)


@dataclass
class World:
    places: dict[str, Place]
    principals: list[Principal]


@pytest.fixture
def world(app: Flask, db_session: Session, make_account: MakeAccount,
          make_dossier: MakeDossier, make_staff: MakeStaff) -> World:
    family, code = make_account("Claire Martin")
    stranger, _ = make_account("Famille Quintal")
    own = make_dossier(family, first_name="Léa", last_name="Martin")
    other = make_dossier(stranger, first_name=OTHER_PUPIL, last_name="Quintal", uai=OTHER,
                         campaign="reinscription-b")
    places = {}
    for context, dossier, slug in (("own", own, "reinscription-2026"),
                                   ("other", other, "reinscription-b")):
        places[context] = Place(dossier.pupil.establishment, slug, dossier,
                                _png_file(app, db_session, dossier),
                                _done_job(app, db_session, dossier, slug),
                                _done_import(app, db_session, dossier, slug))
    principals = []
    for n, role in enumerate(ROLES):
        user = make_staff(f"{role}@college.fr", role=role)
        principals.append(_principal(app, role, _staff_client(app, user, n), "/etablissement/"))
    admin = make_staff("admin@academie.fr", role=None, admin=True)
    principals.append(_principal(app, "admin", _staff_client(app, admin, len(ROLES)),
                                 "/etablissement/"))
    principals.append(_principal(app, "anonymous", _client(app, len(ROLES) + 1), "/connexion"))
    family_client = _client(app, len(ROLES) + 2)
    family_client.post("/connexion", data={"csrf_token": _csrf_of(family_client, "/connexion"),
                                           "login": family.login, "code": code})
    principals.append(_principal(app, "family", family_client, "/mes-dossiers"))
    # one agent per principal in each establishment, for the routes acting on an agent
    for place in places.values():
        for principal in PRINCIPALS:
            target = create_staff(db_session, email=f"cible-{principal}-{place.slug}@college.fr",
                                  display_name=f"Cible {principal}")
            db_session.flush()
            grant_role(db_session, target, place.establishment, StaffRole.READ_ONLY)
            place.targets[principal] = target.id
    db_session.commit()
    return World(places, principals)


def _contexts(rule: Rule) -> list[str]:
    if "uai" in rule.arguments:
        crossed = {"public_id", "staff_id"} & rule.arguments
        return ["own", "other", *(["crossed"] if crossed else [])]
    if "public_id" in rule.arguments:
        return ["own", "other"]
    return ["own"]


def _url(rule: Rule, world: World, principal: str, context: str) -> str:
    """The URL of ``rule`` pointing at the objects of ``context``: "crossed" is the own UAI
    with the other establishment's dossier, file and agent."""
    place = world.places["own" if context == "own" else "other"]
    home = world.places["own"] if context == "crossed" else place
    values: dict[str, Any] = {
        "uai": home.establishment.uai, "slug": home.slug, "public_id": place.dossier.public_id,
        "file_id": place.file.public_id, "staff_id": place.targets[principal],
        "job_id": place.job.public_id, "field_id": "note_secretariat",
        "import_id": place.imported.public_id,
        "audience": "not_started",
        "document_id": "justificatif_domicile", "page_id": "eleve", "purpose": "invitation",
        "token": "jeton-inconnu", "name": "text", "filename": "css/app.css",
        **VALUES_OF.get(rule.endpoint, {})}
    missing = rule.arguments - values.keys()
    assert not missing, f"{rule.endpoint}: no test value for {sorted(missing)}"
    return rule.build({name: values[name] for name in rule.arguments})[1]  # type: ignore[index]


def _requests(app: Flask) -> Iterator[tuple[Rule, str]]:
    """Every (rule, method), the LAST endpoints at the end."""
    rules = sorted(app.url_map.iter_rules(), key=lambda r: (
        LAST.index(r.endpoint) + 1 if r.endpoint in LAST else 0, r.endpoint, r.rule))
    for rule in rules:
        for method in ("GET", "POST"):
            if method in (rule.methods or ()):
                yield rule, method


def test_access_matrix(app: Flask, world: World) -> None:
    problems = []
    count = 0
    for principal in world.principals:
        for rule, method in _requests(app):
            access = access_of(rule.endpoint)
            for context in _contexts(rule):
                url = _url(rule, world, principal.name, context)
                response = principal.request(method, url, app)
                count += 1
                want, got = expected(access, principal.name, context), seen(response)
                where = f"{principal.name:<11} {context:<7} {method:<4} {rule.endpoint} {url}"
                if response.status_code >= 500:
                    problems.append(f"{where}: {response.status_code}")
                elif want is Seen.ANY:
                    if got is Seen.FORBIDDEN:
                        problems.append(f"{where}: 403 on a public route")
                elif got is not want:
                    problems.append(f"{where}: expected {want.value}, got {got.value} "
                                    f"({response.status_code})")
                body = response.get_data()
                if body.lstrip()[:15].lower() == b"<!doctype html>" \
                        and response.mimetype != "text/html":
                    problems.append(f"{where}: a page served as {response.mimetype}")
                if response.mimetype == "text/html":
                    ids = ID_ATTR.findall(TEMPLATE_TAG.sub("", body.decode()))
                    twice = sorted({i for i in ids if ids.count(i) > 1})
                    if twice:
                        problems.append(f"{where}: ids used twice: {', '.join(twice)}")
                if got is not Seen.ALLOWED and context != "own" \
                        and OTHER_PUPIL in response.get_data(as_text=True):
                    problems.append(f"{where}: the other pupil's name in a denied answer")
    assert not problems, f"{len(problems)} of {count} requests:\n" + "\n".join(problems)
    assert count > 500


def test_a_route_without_an_entry_fails_with_its_name(app: Flask) -> None:
    with pytest.raises(pytest.fail.Exception, match="'staff.nouvelle_page' has no entry"):
        access_of("staff.nouvelle_page")


def test_every_role_is_in_the_matrix() -> None:
    assert set(ROLES) == set(ROLE_PERMISSIONS) and len(PRINCIPALS) == len(ROLES) + 3
