"""The staff list: search by name or INE, filters (state, level, division, changes, changed
page, documents, conflicts, regime, memberships), sort, pagination, counts per state, summaries
kept current."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.campaign import load_campaign
from engine.campaign.model import Campaign, membership_fields
from engine.dossiers.listing import (
    Filters,
    Listing,
    Sort,
    list_dossiers,
    regime_field,
    token,
)
from engine.dossiers.models import ChangeSummary, Dossier, Establishment, StoredFile
from engine.dossiers.services import change_state, save_answers
from engine.dossiers.states import Actor, DossierState
from engine.dossiers.versions import CampaignCache
from engine.exports.selection import Selection
from engine.web.state import app_state

from conftest import EXAMPLE_CAMPAIGN, MakeAccount, MakeDossier

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


def _listing(db_session: Session, dossier: Dossier, filters: Filters, **kwargs: Any) -> Listing:
    return list_dossiers(db_session, dossier.pupil.establishment_id,
                         dossier.campaign_version.slug, filters,
                         campaign=CAMPAIGNS.campaign_of(dossier.campaign_version),
                         campaign_for=lambda d: CAMPAIGNS.campaign_of(d.campaign_version),
                         **kwargs)


def _list(db_session: Session, dossier: Dossier, **filters: Any) -> list[str]:
    return [r.first_name for r in _listing(db_session, dossier, Filters(**filters)).rows]


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
    listing = _listing(db_session, lea, Filters(state=DossierState.SUBMITTED))
    assert [r.first_name for r in listing.rows] == ["Hugo"]
    assert listing.state_counts[DossierState.IN_PROGRESS] == 1
    assert listing.state_counts[DossierState.NOT_STARTED] == 1
    assert listing.divisions == ["3B", "5A"]


def test_a_page_works_out_the_changes_of_its_rows_and_follows_each_save(
        db_session: Session, make_account: MakeAccount, make_dossier: MakeDossier) -> None:
    """Without a filter on changes, only the rows shown need their summary (a page of 50
    among hundreds the families are editing); a family's next save shows on the next listing,
    and a filter on changes still reads every row's."""
    lea, hugo, zoe = _make(db_session, make_account, make_dossier)
    family = Actor.family(1)
    for dossier in (lea, hugo, zoe):
        save_answers(db_session, dossier, dossier.row_version,
                     {"telephone_eleve": "0700000001"}, "eleve", family)

    def first_row() -> tuple[str, list[str]]:
        row = _listing(db_session, lea, Filters(), per_page=1).rows[0]
        return row.first_name, row.changed_fields

    assert first_row() == ("Hugo", ["telephone_eleve"])
    assert list(db_session.scalars(select(ChangeSummary.dossier_id))) == [hugo.id]
    save_answers(db_session, hugo, hugo.row_version, {"email_eleve": "hugo@example.fr"},
                 "eleve", family)
    assert first_row() == ("Hugo", ["telephone_eleve", "email_eleve"])
    save_answers(db_session, hugo, hugo.row_version,
                 {"telephone_eleve": "06 12 34 56 78", "email_eleve": None}, "eleve", family)
    assert first_row() == ("Hugo", [])
    assert _list(db_session, lea, has_changes=True) == ["Léa", "Zoé"]
    assert _list(db_session, lea, changed_page="eleve") == ["Léa", "Zoé"]


def test_pagination(db_session: Session, make_account: MakeAccount,
                    make_dossier: MakeDossier) -> None:
    lea, *_ = _make(db_session, make_account, make_dossier)
    listing = _listing(db_session, lea, Filters(page=9), per_page=2)
    assert (listing.page, listing.pages, listing.total) == (2, 2, 3)
    assert [r.first_name for r in listing.rows] == ["Zoé"]


def test_the_regime_is_found_through_the_tariffs_and_the_memberships_by_their_type() -> None:
    campaign = load_campaign(EXAMPLE_CAMPAIGN)
    spec = regime_field(campaign)
    assert spec is not None and spec.id == "regime"  # applies_if: regime in ["dp4", "dp5"]
    assert [s.id for s in membership_fields(campaign)] == ["adhesions"]
    # another campaign: the canteen is a yes/no question of another name
    other = load_campaign(EXAMPLE_CAMPAIGN.with_name("college-les-tilleuls.yaml"))
    spec = regime_field(other)
    assert spec is not None and spec.id == "restauration"
    assert token(True) == "true" and token("dp4") == "dp4" and token(None) == ""


def test_regime_and_memberships_filters_combine_with_the_others(
        db_session: Session, make_account: MakeAccount, make_dossier: MakeDossier) -> None:
    lea, hugo, zoe = _make(db_session, make_account, make_dossier)
    family = Actor.family(1)
    save_answers(db_session, lea, lea.row_version, {"regime": "dp4", "adhesions": ["fse"]},
                 "restauration", family)
    save_answers(db_session, hugo, hugo.row_version, {"regime": "dp4", "adhesions": ["fse"]},
                 "restauration", family)
    save_answers(db_session, zoe, zoe.row_version, {"regime": "externe",
                                                    "adhesions": ["as", "fse"]},
                 "restauration", family)
    assert _list(db_session, lea, regime="dp4") == ["Hugo", "Léa"]
    assert _list(db_session, lea, regime="dp4", division="5A") == ["Léa"]
    assert _list(db_session, lea, membership="as") == ["Zoé"]
    assert _list(db_session, lea, membership="fse", regime="externe") == ["Zoé"]
    assert _list(db_session, lea, regime="dp5") == []
    # a value the school corrected wins over the family's answer
    lea.corrections = {"regime": "dp5"}
    db_session.commit()
    assert _list(db_session, lea, regime="dp5") == ["Léa"]
    listing = _listing(db_session, lea, Filters())
    assert listing.regime_field is not None and listing.regime_field.id == "regime"
    # every declared value is offered, by its label, as well as the values found
    assert dict(listing.regimes) == {
        "externe": "Externe", "dp4": "Demi-pensionnaire 4 jours (lundi, mardi, jeudi, vendredi)",
        "dp5": "Demi-pensionnaire 5 jours"}
    assert dict(listing.associations) == {"fse": "Foyer socio-éducatif (FSE)",
                                          "as": "Association sportive (AS)",
                                          "fcpe": "Don à la FCPE"}


def test_a_campaign_without_tariff_or_associations_has_no_such_filter(
        db_session: Session, make_account: MakeAccount, make_dossier: MakeDossier) -> None:
    lea, *_ = _make(db_session, make_account, make_dossier)
    bare = replace(load_campaign(EXAMPLE_CAMPAIGN), tariffs=(), associations=())
    listing = list_dossiers(db_session, lea.pupil.establishment_id, lea.campaign_version.slug,
                            Filters(regime="dp4"), campaign=bare,
                            campaign_for=lambda d: CAMPAIGNS.campaign_of(d.campaign_version))
    assert listing.regime_field is None and listing.regimes == () and not listing.associations
    # a filter the campaign cannot answer keeps nothing rather than everything
    assert listing.total == 0


def test_the_exports_read_the_regime_and_memberships_filters(
        db_session: Session, make_account: MakeAccount, make_dossier: MakeDossier) -> None:
    lea, hugo, zoe = _make(db_session, make_account, make_dossier)
    family = Actor.family(1)
    for dossier, regime in ((lea, "dp4"), (hugo, "externe"), (zoe, "dp4")):
        save_answers(db_session, dossier, dossier.row_version,
                     {"regime": regime, "adhesions": ["as"] if dossier is zoe else []},
                     "restauration", family)
    establishment = db_session.get(Establishment, lea.pupil.establishment_id)
    assert establishment is not None

    def exported(filters: Filters) -> list[int]:
        return Selection(db_session, establishment, lea.campaign_version.slug,
                         CAMPAIGNS.campaign_of, filters).ids

    assert exported(Filters(regime="dp4")) == [lea.id, zoe.id]
    assert exported(Filters(regime="dp4", membership="as")) == [zoe.id]
    assert exported(Filters(membership="as")) == [zoe.id]  # each read only when filtered
    assert exported(Filters(regime="externe")) == [hugo.id]


def test_two_agents_listing_at_once_store_the_summaries_without_colliding(
        app: Flask, database_url: str, db_session: Session, make_account: MakeAccount,
        make_dossier: MakeDossier) -> None:
    """Another agent's listing stores the summaries while this one is computing its own (a
    500 on their primary key, or a deadlock, under load on PostgreSQL)."""
    if database_url.startswith("sqlite"):
        pytest.skip("SQLite has one writer at a time: two listings cannot interleave there")
    lea, _hugo, zoe = _make(db_session, make_account, make_dossier)
    for dossier in (lea, zoe):
        save_answers(db_session, dossier, dossier.row_version,
                     {"telephone_eleve": "0700000001"}, "eleve", Actor.family(1))
    database = app_state(app).database
    calls: list[Dossier] = []
    other: list[str] = []

    def campaign_for(dossier: Dossier) -> Campaign:
        calls.append(dossier)
        if len(calls) == 2:  # one summary computed here: the other agent lists meanwhile
            with database.sessions() as session:
                mine = session.get(Dossier, lea.id)
                assert mine is not None
                other.extend(r.first_name for r in _listing(session, mine, Filters(
                    has_changes=True)).rows)
        return CAMPAIGNS.campaign_of(dossier.campaign_version)

    listing = list_dossiers(db_session, lea.pupil.establishment_id, lea.campaign_version.slug,
                            Filters(has_changes=True),
                            campaign=CAMPAIGNS.campaign_of(lea.campaign_version),
                            campaign_for=campaign_for)
    assert [r.first_name for r in listing.rows] == other == ["Léa", "Zoé"]
    for dossier in (lea, zoe):
        summary = db_session.get(ChangeSummary, dossier.id)
        assert summary is not None and summary.row_version == dossier.row_version
