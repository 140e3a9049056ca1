"""Retention: the personal data of a campaign deleted once ``closes`` + ``retention_days`` has
passed (docs/campaign-language.md#personal-data-retention-and-the-privacy-notice).

:func:`purge` is the one way to do it: ``dossiersco purge`` and the queue's periodic job both
call it. For each campaign whose time is up it deletes, in one transaction, the dossiers of
every version (answers, sealed health data, history, declared dates, change summaries,
ratings), their file rows, the messages sent about the campaign, then the pupils left with
no dossier, the family accounts left with no child (their invitations) and the guardians'
shared details (``guardian_profile``) no remaining dossier imports. Stored objects are
deleted after the commit: a crash in between leaves objects without rows, which
``dossiersco storage check --repair`` removes, never a row without its object.

The audit trail stays as it is: its entries name ids and counts, never a value (see
``engine.dossiers.audit``), so the chain needs no rewriting and remains verifiable.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Select, delete, exists, func, select, update
from sqlalchemy.orm import Session

from engine.campaign.model import Campaign
from engine.diagnostics import EngineError
from engine.storage import Storage

from .guardians import imported_keys
from .models import (
    CampaignVersion,
    ChangeSummary,
    Dossier,
    DossierDocument,
    DossierEvent,
    FamilyAccount,
    GuardianProfile,
    Guardianship,
    Invitation,
    Pupil,
    SatisfactionRating,
    SentMessage,
    StoredFile,
)
from .versions import CampaignCache, latest_version

log = logging.getLogger(__name__)


@dataclass(slots=True)
class CampaignPurge:
    """What was (or, in a dry run, would be) deleted for one campaign: counts, and the ids
    the deletion works on."""

    uai: str
    slug: str
    purge_on: date
    establishment_id: int
    dossier_ids: list[int] = field(default_factory=list, repr=False)
    pupil_ids: list[int] = field(default_factory=list, repr=False)
    account_ids: list[int] = field(default_factory=list, repr=False)
    profile_ids: list[int] = field(default_factory=list, repr=False)
    #: storage keys of the files, deleted after the commit
    storage_keys: list[str] = field(default_factory=list, repr=False)
    messages: int = 0

    def counts(self) -> dict[str, int]:
        return {"dossiers": len(self.dossier_ids), "documents": len(self.storage_keys),
                "pupils": len(self.pupil_ids), "accounts": len(self.account_ids),
                "profiles": len(self.profile_ids), "messages": self.messages}


def due_campaigns(session: Session, campaigns: CampaignCache, today: date,
                  ) -> Iterator[tuple[CampaignVersion, Campaign]]:
    """The latest version of every campaign whose retention ended on or before ``today``
    (the latest version's dates decide: a campaign extended by a new version lives on)."""
    for slug in session.scalars(select(CampaignVersion.slug).distinct().order_by(
            CampaignVersion.slug)):
        version = latest_version(session, slug)
        assert version is not None
        try:
            campaign = campaigns.campaign_of(version)
        except EngineError:
            # a text that no longer compiles keeps its data until someone looks at it
            log.warning("retention: campaign %s no longer compiles, not purged", slug)
            continue
        if campaign.purge_on <= today:
            yield version, campaign


def _ids(session: Session, query: Select[Any]) -> list[int]:
    return list(session.scalars(query))


def _plan(session: Session, version: CampaignVersion, campaign: Campaign) -> CampaignPurge:
    """The rows of one campaign to delete, nothing deleted yet."""
    establishment_id = version.establishment_id
    plan = CampaignPurge(version.establishment.uai, version.slug, campaign.purge_on,
                         establishment_id)
    versions = select(CampaignVersion.id).where(CampaignVersion.slug == version.slug)
    plan.dossier_ids = dossiers = _ids(session, select(Dossier.id).where(
        Dossier.campaign_version_id.in_(versions)))
    plan.storage_keys = list(session.scalars(
        select(StoredFile.storage_key).where(StoredFile.dossier_id.in_(dossiers))))
    plan.messages = session.scalar(select(func.count(SentMessage.id)).where(
        _messages(plan))) or 0
    plan.pupil_ids, plan.account_ids, plan.profile_ids = _orphans(session, dossiers,
                                                                  establishment_id)
    return plan


def _messages(plan: CampaignPurge) -> ColumnElement[bool]:
    return (SentMessage.establishment_id == plan.establishment_id) & (
        (SentMessage.campaign_slug == plan.slug) | SentMessage.dossier_id.in_(plan.dossier_ids))


def _orphans(session: Session, dossiers: list[int], establishment_id: int,
             ) -> tuple[list[int], list[int], list[int]]:
    """Pupils, family accounts and guardian profiles that only the ``dossiers`` keep."""
    others = ~Dossier.id.in_(dossiers)
    touched = select(Dossier.pupil_id).where(Dossier.id.in_(dossiers))
    pupils = _ids(session, select(Pupil.id).where(
        Pupil.id.in_(touched),
        ~exists().where(Dossier.pupil_id == Pupil.id, others)))
    linked = select(Guardianship.account_id).where(Guardianship.pupil_id.in_(pupils))
    accounts = _ids(session, select(FamilyAccount.id).where(
        FamilyAccount.id.in_(linked),
        ~exists().where(Guardianship.account_id == FamilyAccount.id,
                        ~Guardianship.pupil_id.in_(pupils))))
    rows = select(Dossier).join(Pupil).where(Pupil.establishment_id == establishment_id)
    doomed = _keys(session.scalars(rows.where(Dossier.id.in_(dossiers))))
    kept = _keys(session.scalars(rows.where(others)))
    held = select(Guardianship.guardian_key).join(Pupil).where(
        Pupil.establishment_id == establishment_id, ~Pupil.id.in_(pupils))
    profiles = _ids(session, select(GuardianProfile.id).where(
        GuardianProfile.establishment_id == establishment_id,
        GuardianProfile.guardian_key.in_(sorted(doomed - kept)),
        GuardianProfile.guardian_key.not_in(held)))
    return pupils, accounts, profiles


def _keys(dossiers: Iterable[Dossier]) -> set[str]:
    return {key for dossier in dossiers for key in imported_keys(dossier)}


def _delete(session: Session, plan: CampaignPurge) -> None:
    """Delete the planned rows in dependency order, in the caller's transaction."""
    dossiers, pupils, accounts = plan.dossier_ids, plan.pupil_ids, plan.account_ids
    session.execute(delete(SentMessage).where(_messages(plan)))
    for model in (DossierEvent, DossierDocument, ChangeSummary, SatisfactionRating,
                  StoredFile):
        session.execute(delete(model).where(model.dossier_id.in_(dossiers)))
    session.execute(delete(Dossier).where(Dossier.id.in_(dossiers)))
    session.execute(delete(Guardianship).where(Guardianship.pupil_id.in_(pupils)))
    session.execute(delete(Pupil).where(Pupil.id.in_(pupils)))
    # what the accounts did in other campaigns' dossiers stays, without the link to them
    for column in (StoredFile.uploaded_by_id, DossierDocument.updated_by_id,
                   SentMessage.account_id, SatisfactionRating.account_id):
        session.execute(update(column.class_).where(column.in_(accounts))
                        .values({column.key: None}))
    session.execute(delete(Invitation).where(Invitation.account_id.in_(accounts)))
    session.execute(delete(FamilyAccount).where(FamilyAccount.id.in_(accounts)))
    session.execute(delete(GuardianProfile).where(GuardianProfile.id.in_(plan.profile_ids)))


def purge(session: Session, storage: Storage, campaigns: CampaignCache, today: date, *,
          dry_run: bool = False) -> list[CampaignPurge]:
    """Delete the personal data of every campaign whose retention ended by ``today``; what
    was deleted per campaign (with ``dry_run``, what would be, and nothing is). Campaigns
    with nothing left to delete are not listed."""
    done: list[CampaignPurge] = []
    for version, campaign in list(due_campaigns(session, campaigns, today)):
        plan = _plan(session, version, campaign)
        if not plan.dossier_ids and not plan.messages:
            continue
        done.append(plan)
        if dry_run:
            continue
        _delete(session, plan)
        session.commit()
        for key in plan.storage_keys:
            storage.delete(key)
        log.info("retention: campaign %s of %s purged (%s)", plan.slug, plan.uai,
                 ", ".join(f"{k} {v}" for k, v in plan.counts().items()))
    return done
