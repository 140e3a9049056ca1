"""The family of the wizard and submission tests: both guardians of ``wizardkit.PREFILL`` with
an account each, and their child's dossier on the example campaign."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from engine.dossiers.models import Dossier, FamilyAccount

from .wizardkit import PREFILL

Account = tuple[FamilyAccount, str]


@pytest.fixture
def mother(make_account: Callable[..., Account]) -> Account:
    """The first guardian of PREFILL (``personne_id`` 1001), as ``(account, secret code)``."""
    return make_account("Claire Martin", email="claire.martin@example.fr", personne_id="1001")


@pytest.fixture
def father(make_account: Callable[..., Account]) -> Account:
    """The second guardian of PREFILL (``personne_id`` 1002), as ``(account, secret code)``."""
    return make_account("Paul Durand", email="paul.durand@example.fr", personne_id="1002")


@pytest.fixture
def dossier(make_dossier: Callable[..., Dossier], mother: Account, father: Account) -> Dossier:
    """Léa's dossier, not started, prefilled with PREFILL, both parents linked."""
    return make_dossier(mother[0], father[0], prefill=PREFILL)


@pytest.fixture
def family(client: FlaskClient, login: Callable[[str, str], TestResponse], mother: Account,
           dossier: Dossier) -> FlaskClient:
    """The mother's browser, logged in, with Léa's dossier."""
    login(mother[0].login, mother[1])
    return client
