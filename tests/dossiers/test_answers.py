"""A posted page becomes writes (dossiers.answers): protections, row actions, on_hide, the
version check, and the submission's checks; through the public API, without Flask."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy.orm import Session

from engine.campaign import load_campaign_text
from engine.dossiers.answers import (
    DossierView,
    RowAction,
    RowActionError,
    SubmissionRefused,
    new_row,
    open_dossier,
    save_page,
    submit_answers,
)
from engine.dossiers.models import Dossier, FamilyAccount
from engine.dossiers.services import StaleDossierError
from engine.dossiers.states import Actor, DossierState

from campaign.helpers import campaign_text
from conftest import CAMPAIGN_DAY

SOURCE = campaign_text("""\
    - id: nom
      type: text
      label: Nom
      prefill: pupil.last_name
      editable: false
    - id: regime
      type: choice
      label: Régime
      required: true
      choices: [externe, demi-pension]
    - id: jours
      type: text
      label: Jours
      visible_if: regime == 'demi-pension'
    - id: photo
      type: file
      label: Photo
    - id: contacts
      type: repeat
      label: Contacts
      min: 1
      max: 2
      fields:
        - id: nom
          type: text
          label: Nom
    """)


@pytest.fixture
def guardian(make_account: Callable[..., tuple[FamilyAccount, str]]) -> FamilyAccount:
    return make_account("Claire Martin", email="claire@example.fr")[0]


@pytest.fixture
def view(db_session: Session, make_dossier: Callable[..., Dossier],
         guardian: FamilyAccount) -> DossierView:
    dossier = make_dossier(guardian, source=SOURCE)
    return open_dossier(dossier, load_campaign_text(SOURCE), guardian.id, today=CAMPAIGN_DAY)


def _save(session: Session, view: DossierView, posted: dict[str, object],
          action: RowAction | None = None) -> None:
    save_page(session, view, view.campaign.pages[0], dict(posted), action,
              view.dossier.row_version, Actor.family(1))


def test_the_view_fills_in_the_prefill_and_evaluates_lazily(view: DossierView) -> None:
    assert view.answers["nom"] == "Martin"
    assert view.editable
    assert [p.id for p in view.visible_pages()] == ["eleve"]
    assert view.find_page("eleve") is view.campaign.pages[0]
    assert view.find_page("nulle-part") is None


def test_a_save_stores_the_post_with_hidden_answers_cleared(db_session: Session,
                                                            view: DossierView) -> None:
    _save(db_session, view, {"regime": "demi-pension", "jours": "lundi"})
    _save(db_session, view, {"regime": "externe", "jours": "lundi"})
    assert view.dossier.answers["jours"] is None  # on_hide: clear
    assert view.answers["jours"] is None and "jours" not in view.evaluation.visible
    assert view.dossier.state is DossierState.IN_PROGRESS
    assert view.dossier.row_version == 3


def test_a_file_field_keeps_the_stored_files_whatever_is_posted(db_session: Session,
                                                                 view: DossierView) -> None:
    _save(db_session, view, {"photo": ["un-faux-fichier"]})
    assert view.dossier.answers["photo"] == []


def test_row_actions_add_and_remove_within_min_and_max(db_session: Session,
                                                       view: DossierView) -> None:
    _save(db_session, view, {"contacts": [new_row()]}, RowAction("add", "contacts"))
    assert len(view.dossier.answers["contacts"]) == 2
    _save(db_session, view, {"contacts": view.answers["contacts"]}, RowAction("add", "contacts"))
    assert len(view.dossier.answers["contacts"]) == 2  # max: 2
    _save(db_session, view, {"contacts": view.answers["contacts"]},
          RowAction("remove", "contacts", 0))
    _save(db_session, view, {"contacts": view.answers["contacts"]},
          RowAction("remove", "contacts", 0))
    assert len(view.dossier.answers["contacts"]) == 1  # min: 1


@pytest.mark.parametrize("action", [RowAction("add", "regime"), RowAction("add", "inconnu"),
                                    RowAction("remove", "contacts", 5),
                                    RowAction("remove", "contacts")])
def test_a_row_action_on_nothing_removable_writes_nothing(db_session: Session,
                                                          view: DossierView,
                                                          action: RowAction) -> None:
    with pytest.raises(RowActionError):
        _save(db_session, view, {"contacts": [new_row()]}, action)
    assert view.dossier.row_version == 1


def test_a_stale_save_leaves_the_post_in_the_view(db_session: Session,
                                                  view: DossierView) -> None:
    with pytest.raises(StaleDossierError):
        save_page(db_session, view, view.campaign.pages[0], {"regime": "demi-pension"}, None,
                  view.dossier.row_version + 1, Actor.family(1))
    assert view.answers["regime"] == "demi-pension"
    assert "jours" in view.evaluation.visible


def test_a_submission_is_refused_until_the_pages_are_complete(db_session: Session,
                                                              view: DossierView) -> None:
    with pytest.raises(SubmissionRefused) as refused:
        submit_answers(db_session, view, view.dossier.row_version, Actor.family(1))
    assert refused.value.problems == [
        "La page « Élève » comporte 1 réponse à compléter ou corriger."]
    assert view.dossier.state is DossierState.NOT_STARTED
    view.evaluate({**view.answers, "regime": "externe"})
    submit_answers(db_session, view, view.dossier.row_version, Actor.family(1))
    assert view.dossier.state is DossierState.SUBMITTED
    # the confirmed answers are stored, the locked prefill is not
    assert view.dossier.answers["regime"] == "externe" and "nom" not in view.dossier.answers
