"""The staff list: search by name or INE, filters (state, level, division, changes, changed
page, documents, conflicts), sort, pagination, counts per state, summaries kept current."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from engine.dossiers.listing import Filters, Sort, list_dossiers
from engine.dossiers.models import Dossier, StoredFile
from engine.dossiers.services import change_state, save_answers
from engine.dossiers.states import Actor, DossierState
from engine.dossiers.versions import CampaignCache

from conftest import MakeAccount, MakeDossier

CAMPAIGNS = CampaignCache()


def _prefill(first: str, last: str, division: str, level: str) -> dict[str, Any]:
    return {"pupil": {"first_name": first, "last_name": last, "division": division,
                      "level": level, "phone_mobile": "0612345678"}}


def _make(db_session: Session, make_account: MakeAccount, make_dossier: MakeDossier) -> list[
        Dossier]:
    account, _ = make_account()
    out = []
    for first, last, division, level in [("Léa", "Durand", "5A", "5e"),
                                         ("Hugo", "Durand", "3B", "3e"),
                                         ("Zoé", "Éluard", "5A", "5e")]:
        out.append(make_dossier(account, first_name=first, last_name=last,
                                prefill=_prefill(first, last, division, level)))
    return out


def _list(db_session: Session, dossier: Dossier, **filters: Any) -> list[str]:
    listing = list_dossiers(db_session, dossier.pupil.establishment_id,
                            dossier.campaign_version.slug, Filters(**filters),
                            campaign_for=lambda d: CAMPAIGNS.campaign_of(d.campaign_version))
    return [r.first_name for r in listing.rows]


def test_search_filters_and_sort(db_session: Session, make_account: MakeAccount,
                                 make_dossier: MakeDossier) -> None:
    lea, hugo, zoe = _make(db_session, make_account, make_dossier)
    assert _list(db_session, lea) == ["Hugo", "Léa", "Zoé"]
    assert _list(db_session, lea, q="eluard") == ["Zoé"]
    assert _list(db_session, lea, q="lea durand") == ["Léa"]
    assert _list(db_session, lea, division="5A") == ["Léa", "Zoé"]
    assert _list(db_session, lea, level="3e") == ["Hugo"]
    assert _list(db_session, lea, sort=Sort.DIVISION) == ["Hugo", "Léa", "Zoé"]
    assert _list(db_session, lea, sort=Sort.NAME, descending=True) == ["Zoé", "Léa", "Hugo"]


def test_changes_documents_and_states(db_session: Session, make_account: MakeAccount,
                                      make_dossier: MakeDossier) -> None:
    lea, hugo, zoe = _make(db_session, make_account, make_dossier)
    family = Actor.family(1)
    # the same number written differently is no change; another number is one
    save_answers(db_session, hugo, hugo.row_version, {"telephone_eleve": "+33 6 12 34 56 78"},
                 "eleve", family)
    save_answers(db_session, lea, lea.row_version, {"telephone_eleve": "0700000001"}, "eleve",
                 family)
    assert _list(db_session, lea, has_changes=True) == ["Léa"]
    assert _list(db_session, lea, changed_page="eleve") == ["Léa"]
    assert _list(db_session, lea, changed_page="scolarite") == []
    # saved again: the summary follows the new version
    save_answers(db_session, lea, lea.row_version, {"telephone_eleve": "06 12 34 56 78"},
                 "eleve", family)
    assert _list(db_session, lea, has_changes=True) == []
    db_session.add(StoredFile(dossier_id=zoe.id, document_id="d", storage_key="k" * 32,
                              filename="a.pdf", sha256="0" * 64, size=1,
                              mime_type="application/pdf"))
    db_session.commit()
    assert _list(db_session, lea, documents="pending") == ["Zoé"]
    assert _list(db_session, lea, documents="refused") == []
    change_state(db_session, hugo, hugo.row_version, DossierState.SUBMITTED, family)
    listing = list_dossiers(db_session, lea.pupil.establishment_id, lea.campaign_version.slug,
                            Filters(state=DossierState.SUBMITTED),
                            campaign_for=lambda d: CAMPAIGNS.campaign_of(d.campaign_version))
    assert [r.first_name for r in listing.rows] == ["Hugo"]
    assert listing.state_counts[DossierState.IN_PROGRESS] == 1
    assert listing.state_counts[DossierState.NOT_STARTED] == 1
    assert listing.divisions == ["3B", "5A"]


def test_pagination(db_session: Session, make_account: MakeAccount,
                    make_dossier: MakeDossier) -> None:
    lea, *_ = _make(db_session, make_account, make_dossier)
    listing = list_dossiers(db_session, lea.pupil.establishment_id, lea.campaign_version.slug,
                            Filters(page=9), campaign_for=lambda d: CAMPAIGNS.campaign_of(
                                d.campaign_version), per_page=2)
    assert (listing.page, listing.pages, listing.total) == (2, 2, 3)
    assert [r.first_name for r in listing.rows] == ["Zoé"]
