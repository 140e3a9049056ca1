"""The database import: canonical records → pupils, family accounts, guardianships, dossiers.

One call is one transaction: the caller's session gets everything or nothing. The same file
imported twice changes nothing (matched on SIECLE ids); a value a family already changed is
never overwritten, the difference is recorded as an ``import_conflict`` event for the school.
Callable from the command line now and from the staff pages later (no Flask here); the files
are read by :mod:`engine.prefill`, which knows nothing of the database.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import inspect, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import QueryableAttribute, Session
from sqlalchemy.orm.attributes import set_committed_value

from engine.campaign.model import Campaign, FieldSpec
from engine.config import DEFAULT_INVITATION_TTL_HOURS
from engine.db import refresh_statistics, utcnow
from engine.fields.date import parse_date
from engine.prefill import ImportFileError, ImportProblem, ImportResult
from engine.prefill.errors import error
from engine.prefill.records import GuardianLink, GuardianRecord, PupilRecord
from engine.rules import DossierContext, DossierScope
from engine.security import Hasher, security_event

from .accounts import (
    Credential,
    issue_invitation,
    new_family_account,
    reissue_taken_logins,
    reset_code,
)
from .corrected import corrected_answers
from .models import (
    CampaignVersion,
    Dossier,
    Establishment,
    FamilyAccount,
    Guardianship,
    ImportRun,
    ImportState,
    Pupil,
)
from .states import Actor, DossierState
from .versions import register_version

#: pupils written per flush; the dossiers of a written batch leave the session
BATCH = 500

#: progress(done, total) after each pupil
Progress = Callable[[int, int], None]

#: NIVEAU_RESPONSABILITE: 1 = legal guardian, 2 = person in charge, 3 = contact only.
#: Only legal guardians get an account; a spreadsheet without the column lists legal guardians.
LEGAL_LEVELS = frozenset({None, "", "1"})

KINDS = ("pupil", "account", "guardianship", "dossier")
ACTIONS = ("created", "updated", "unchanged", "skipped")
KIND_LABELS = {"pupil": "élèves", "account": "comptes famille",
               "guardianship": "liens responsable-élève", "dossier": "dossiers"}
ACTION_LABELS = {"created": "créés", "updated": "mis à jour", "unchanged": "inchangés",
                 "skipped": "ignorés"}
#: the singular of each label, for counts of 0 and 1 (French agreement)
SINGULAR = {"élèves": "élève", "comptes famille": "compte famille",
            "liens responsable-élève": "lien responsable-élève", "dossiers": "dossier",
            "créés": "créé", "inchangés": "inchangé", "ignorés": "ignoré"}


def agreed(n: int, label: str) -> str:
    """``label`` (a plural of the labels above) agreeing with ``n``: « 1 compte famille »."""
    return SINGULAR.get(label, label) if n < 2 else label

SKIP_AUDIENCE = "hors du public de la campagne (audience)"
SKIP_NOT_LEGAL = "pas représentant légal (niveau de responsabilité {level}) : pas de compte"
WARN_NO_GUARDIAN = "aucun représentant légal dans l'import : dossier sans compte famille"
KEPT_OUT_OF_AUDIENCE = "plus dans le public de la campagne : le dossier existant est gardé"


class ImportRefused(ImportFileError):
    """The records cannot be imported for this campaign (wrong school, parse errors)."""


@dataclass(frozen=True, slots=True)
class Outcome:
    """What happened to one record: ``key`` is a SIECLE id, never a name."""

    kind: str
    key: str
    action: str
    reason: str = ""


@dataclass(slots=True)
class Conflict:
    """An imported value differs from the family's answer: the answer was kept."""

    dossier_public_id: str
    pupil: str
    field_id: str
    prefill_path: str


@dataclass(slots=True)
class ImportReport:
    campaign: str
    establishment: str
    dry_run: bool
    imported_at: datetime
    outcomes: list[Outcome] = field(default_factory=list)
    credentials: list[Credential] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)
    warnings: list[ImportProblem] = field(default_factory=list)
    #: codes created (or reset), also in a dry run, whose codes are dropped
    new_codes: int = 0

    def add(self, kind: str, key: str, action: str, reason: str = "") -> None:
        self.outcomes.append(Outcome(kind, key, action, reason))

    def counts(self) -> dict[str, Counter[str]]:
        """kind → action → number of records."""
        out: dict[str, Counter[str]] = {kind: Counter() for kind in KINDS}
        for o in self.outcomes:
            out[o.kind][o.action] += 1
        return out

    def reasons(self) -> Counter[tuple[str, str, str]]:
        """(kind, action, reason) → number of records, for the skipped and noted ones."""
        return Counter((o.kind, o.action, o.reason) for o in self.outcomes if o.reason)

    def as_dict(self) -> dict[str, Any]:
        """What the web pages show of the report (JSON; codes never, names of conflicts only)."""
        return {"dry_run": self.dry_run, "campaign": self.campaign,
                "counts": {kind: {a: counter[a] for a in ACTIONS}
                           for kind, counter in self.counts().items()},
                "reasons": [f"{n} {agreed(n, KIND_LABELS[kind])} "
                            f"{agreed(n, ACTION_LABELS[action])} : {reason}"
                            for (kind, action, reason), n in sorted(self.reasons().items())],
                "conflicts": [[c.pupil, c.field_id, c.prefill_path, c.dossier_public_id]
                              for c in self.conflicts],
                "problems": [w.as_dict() for w in self.warnings],
                "new_codes": self.new_codes}

    def lines(self) -> list[str]:
        """The report as the school reads it (French)."""
        head = "Simulation (--dry-run) : rien n'a été enregistré." if self.dry_run else \
            "Import enregistré."
        out = [f"{head} Campagne {self.campaign}, établissement {self.establishment}."]
        for kind, counter in self.counts().items():
            parts = ", ".join(f"{counter[a]} {agreed(counter[a], ACTION_LABELS[a])}" for a in ACTIONS)
            out.append(f"  {KIND_LABELS[kind]} : {parts}")
        for (kind, action, reason), n in sorted(self.reasons().items()):
            out.append(f"  - {n} {agreed(n, KIND_LABELS[kind])} {agreed(n, ACTION_LABELS[action])}"
                       f" : {reason}")
        for c in self.conflicts:
            out.append(f"  ! {c.pupil} : « {c.field_id} » modifié par la famille, la nouvelle "
                       f"valeur importée ({c.prefill_path}) est signalée, pas appliquée")
        for w in self.warnings:
            out.append(f"  avertissement : {w.as_line()}")
        return out


def claim_import(session: Session, run: ImportRun) -> None:
    """Take the establishment's import lock for ``run`` and mark it importing (committed).

    :raises ImportRefused: ``IMPORT_RUNNING``, another import of the establishment holds the
        lock (the unique ``running_for`` column: two claims at once cannot both succeed).
    """
    run.running_for = run.establishment_id
    run.state = ImportState.IMPORTING.value
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise ImportRefused([error("IMPORT_RUNNING", "Un autre import de l'établissement est "
                                   "en cours : attendez qu'il se termine, puis confirmez "
                                   "celui-ci.")]) from None


def lock_holder(session: Session, establishment_id: int) -> ImportRun | None:
    """The run importing in the establishment now, if any."""
    return session.scalar(select(ImportRun).where(ImportRun.running_for == establishment_id))


def finish_import(run: ImportRun, state: ImportState, *, now: datetime | None = None) -> None:
    """End ``run`` in ``state`` and release the lock (not committed)."""
    run.state = state.value
    run.running_for = None
    run.finished_at = now or utcnow()


def is_legal_guardian(link: GuardianLink | None) -> bool:
    return link is None or link.niveau_responsabilite in LEGAL_LEVELS


def in_audience(campaign: Campaign, prefill: Mapping[str, Any], today: date) -> bool:
    """Whether the campaign's ``audience`` condition holds for this imported record."""
    if campaign.audience is None:
        return True
    scope = DossierScope(campaign, {}, DossierContext(prefill=prefill, today=today))
    return campaign.audience.test(scope)


def check_establishment(result: ImportResult, establishment: Establishment) -> None:
    """Refuse files exported by another school than the campaign's.

    :raises ImportRefused: listing each file with another UAI.
    """
    problems = [error("UAI_MISMATCH",
                      f"Ce fichier est un export de l'établissement {s.uaj}, or la campagne "
                      f"est celle de l'établissement {establishment.uai} : importez les exports "
                      f"SIECLE de l'établissement {establishment.uai}.", file=s.source_file)
                for s in result.sources if s.uaj and s.uaj.upper() != establishment.uai.upper()]
    if problems:
        raise ImportRefused(problems)


def campaign_version_for(session: Session, campaign: Campaign, source: str, *,
                         uai: str | None = None) -> CampaignVersion:
    """The stored version of this campaign text for the school ``uai`` (the campaign's own by
    default), added without committing: it belongs to the import's transaction."""
    uai = (uai or campaign.establishment.uai).upper()
    establishment = session.scalar(select(Establishment).where(Establishment.uai == uai))
    if establishment is None:
        info = campaign.establishment
        same = info.uai.upper() == uai
        establishment = Establishment(uai=uai, name=info.name if same else uai,
                                      contact_email=info.email if same else None,
                                      contact_phone=info.phone if same else None,
                                      address=info.address if same else None)
        session.add(establishment)
    version = register_version(session, establishment, slug=campaign.id,
                               title=campaign.title.get(), source=source)
    if version.establishment.uai != uai:
        raise ImportRefused([error(
            "CAMPAIGN_ESTABLISHMENT",
            f"La campagne {campaign.id} est déjà enregistrée pour l'établissement "
            f"{version.establishment.uai}, pas pour {uai}.")])
    return version


def import_into(session: Session, campaign: Campaign, version: CampaignVersion,
                result: ImportResult, *, hasher: Hasher, dry_run: bool = False,
                progress: Progress | None = None, reset_codes: bool = False,
                invite: bool = False, check_uai: bool = True, now: datetime | None = None,
                batch_size: int = BATCH,
                invitation_ttl: timedelta = timedelta(hours=DEFAULT_INVITATION_TTL_HOURS),
                ) -> ImportReport:
    """Import ``result`` for the campaign ``version`` in one transaction (committed, or rolled
    back when ``dry_run`` or on any error).

    ``reset_codes`` gives existing accounts of these guardians a new code (and a letter);
    ``invite`` prepares a single-use invitation for each guardian with a new code and an
    e-mail address (see :func:`engine.dossiers.invitations.send_invitations`), valid
    ``invitation_ttl`` from ``now`` (pass ``Settings.invitation_ttl``). Rows are written
    ``batch_size`` pupils at a time inside the transaction, so memory stays flat.

    :raises ImportRefused: ``result`` has errors, or comes from another school.
    """
    establishment = version.establishment
    report = ImportReport(campaign=version.slug, establishment=establishment.uai,
                          dry_run=dry_run, imported_at=now or utcnow(),
                          warnings=list(result.warnings))
    # one expiry for every invitation of the import: the one the e-mails state
    invitations_until = report.imported_at + invitation_ttl if invite and not dry_run else None
    try:
        if not result.ok:
            raise ImportRefused(result.problems)
        if check_uai:
            check_establishment(result, establishment)
        importer = _Importer(session, campaign, version, result, hasher, report,
                             reset_codes=reset_codes, invitations_until=invitations_until,
                             kept=not dry_run)
        with session.no_autoflush:
            importer.run(progress, batch_size)
        if not dry_run:
            session.flush()
    except BaseException:
        # also drops what the caller added for this import (a new campaign version)
        session.rollback()
        raise
    report.new_codes = len(report.credentials)
    if dry_run:
        session.rollback()
        report.credentials = []
    else:
        session.commit()
        refresh_statistics(session)
        for account_id in importer.reset_accounts:
            security_event("code.reset", account=account_id, client="cli", by="import")
    return report


class _Importer:
    """One import run: lookups are loaded once, then each pupil is a few dict hits."""

    def __init__(self, session: Session, campaign: Campaign, version: CampaignVersion,
                 result: ImportResult, hasher: Hasher, report: ImportReport, *,
                 reset_codes: bool, invitations_until: datetime | None,
                 kept: bool = True) -> None:
        self.session = session
        #: False for a dry run: the same objects and report, but nothing is hashed nor
        #: written (every row is pending until the rollback, batch by batch forgotten)
        self.kept = kept
        self.campaign = campaign
        self.version = version
        self.result = result
        self.hasher = hasher
        self.report = report
        self.reset_codes = reset_codes
        #: ids of the accounts given a new code, logged once the import is committed
        self.reset_accounts: list[int] = []
        #: expiry of the invitations of this import; None: no invitation
        self.invitations_until = invitations_until
        self.now = report.imported_at
        #: by PERSONNE_ID: new accounts have no database id before the final flush
        self.credentials: dict[str, Credential] = {}
        self.seen_accounts: set[str] = set()
        self.new_logins: set[str] = set()
        #: accounts created since the last flush: their logins are checked at the flush
        self.unflushed: list[FamilyAccount] = []
        self.new_dossiers: list[Dossier] = []
        self.seen_guardians: set[str] = set()
        self.prefilled = [f for f in campaign.top_fields() if f.prefill and f.type.has_value]
        self._load()

    def _load(self) -> None:
        """Pupils, accounts and links (small rows) for the whole import."""
        establishment = self.version.establishment
        self.pupils: dict[str | None, Pupil] = {}
        for ids in _chunks([p.eleve_id for p in self.result.pupils]):
            self.pupils.update((p.eleve_id, p) for p in self.session.scalars(
                select(Pupil).where(Pupil.establishment_id == establishment.id,
                                    Pupil.eleve_id.in_(ids))))
        self.accounts: dict[str | None, FamilyAccount] = {}
        for ids in _chunks([g.personne_id for g in self.result.guardians]):
            self.accounts.update((a.personne_id, a) for a in self.session.scalars(
                select(FamilyAccount).where(FamilyAccount.personne_id.in_(ids))
                .order_by(FamilyAccount.id)))
        #: every version of this campaign: a corrected text is a new version of the same
        #: campaign, and a pupil keeps one dossier of it
        self.versions = set(self.session.scalars(
            select(CampaignVersion.id).where(CampaignVersion.slug == self.version.slug)))
        self.links: set[tuple[int, int]] = set()
        for ids in _chunks([p.id for p in self.pupils.values()]):
            self.links.update((row.account_id, row.pupil_id) for row in self.session.execute(
                select(Guardianship.account_id, Guardianship.pupil_id)
                .where(Guardianship.pupil_id.in_(ids))))

    def _load_dossiers(self, records: Sequence[PupilRecord]) -> None:
        """This campaign's dossiers of a batch of pupils, and their latest other dossier."""
        self.dossiers: dict[int, Dossier] = {}
        self.previous: dict[int, Dossier] = {}
        pupil_ids = [p.id for r in records if (p := self.pupils.get(r.eleve_id)) is not None]
        if not pupil_ids:
            return
        for dossier in self.session.scalars(
                select(Dossier).where(Dossier.pupil_id.in_(pupil_ids))
                .order_by(Dossier.created_at, Dossier.id)):
            if dossier.campaign_version_id in self.versions:
                self.dossiers[dossier.pupil_id] = dossier
            elif dossier.answers:
                # the latest dossier of another campaign: last year's answers
                self.previous[dossier.pupil_id] = dossier

    def run(self, progress: Progress | None, batch_size: int) -> None:
        total = len(self.result.pupils)
        for start in range(0, total, batch_size):
            batch = self.result.pupils[start:start + batch_size]
            self._load_dossiers(batch)
            for done, record in enumerate(batch, start=start + 1):
                self.pupil(record)
                if progress is not None:
                    progress(done, total)
            self._flush_batch()
        for key, credential in self.credentials.items():
            credential.login = self.accounts[key].login
        self.report.credentials = list(self.credentials.values())

    def _flush_batch(self) -> None:
        """Write the batch and forget its dossiers: memory stays flat however large the
        file (the transaction stays open: nothing is visible to others before the commit)."""
        if self.kept:
            reissue_taken_logins(self.session, self.unflushed, self.new_logins)
            self.session.flush()
        self.unflushed.clear()
        for dossier in [*self.dossiers.values(), *self.previous.values(), *self.new_dossiers]:
            pupil = dossier.pupil
            self.session.expunge(dossier)
            if inspect(pupil).pending:  # a dry run's pupil, never flushed
                set_committed_value(pupil, "dossiers", [])
            else:
                self.session.expire(pupil, ["dossiers"])
        # the back-reference of each new dossier: the version's collection would keep them all
        self.session.expire(self.version, ["dossiers"])
        self.new_dossiers.clear()

    def pupil(self, record: PupilRecord) -> None:
        snapshot = self.result.prefill_for(record)
        pupil = self.pupils.get(record.eleve_id)
        dossier = self.dossiers.get(pupil.id) if pupil is not None else None
        if not in_audience(self.campaign, snapshot, self.now.date()):
            reason = KEPT_OUT_OF_AUDIENCE if dossier is not None else SKIP_AUDIENCE
            self.report.add("pupil", record.eleve_id, "skipped", reason)
            return
        pupil = self.upsert_pupil(record, pupil)
        guardians = self.result.guardians_of(record.eleve_id)
        legal = [g for g in guardians if is_legal_guardian(g.link_for(record.eleve_id))]
        for guardian in guardians:
            if guardian not in legal and guardian.personne_id not in self.seen_guardians:
                self.seen_guardians.add(guardian.personne_id)
                link = guardian.link_for(record.eleve_id)
                level = link.niveau_responsabilite if link else "?"
                self.report.add("account", guardian.personne_id, "skipped",
                                SKIP_NOT_LEGAL.format(level=level))
        for guardian in legal:
            account = self.account(guardian)
            link = guardian.link_for(record.eleve_id)
            self.guardianship(account, pupil, guardian.personne_id,
                              link.confidential_contact if link is not None else None)
            credential = self.credentials.get(guardian.personne_id)
            if credential is not None:
                credential.pupils.append(f"{pupil.first_name} {pupil.last_name}".strip())
        previous = self.previous.get(pupil.id)
        if previous is not None:
            snapshot["previous"] = dict(previous.answers)
        provenance = {k: p.as_dict() for k, p in
                      self.result.prefill_provenance_for(record).items()}
        if previous is not None:
            provenance["previous"] = {"campaign": previous.campaign_version.slug,
                                      "dossier": previous.public_id,
                                      "imported_at": self.now.isoformat()}
        self.dossier(pupil, dossier, snapshot, provenance, has_guardian=bool(legal))

    def upsert_pupil(self, record: PupilRecord, pupil: Pupil | None) -> Pupil:
        who = f"L'élève ELEVE_ID={record.eleve_id}"
        for value, column, what in ((record.eleve_id, Pupil.eleve_id, "ELEVE_ID"),
                                    (record.ine, Pupil.ine, "INE"),
                                    (record.first_name, Pupil.first_name, "prénom"),
                                    (record.last_name, Pupil.last_name, "nom")):
            _check_length(value, column, who, what)
        values = {"first_name": record.first_name or "", "last_name": record.last_name or "",
                  "ine": record.ine, "birth_date": parse_date(record.birth_date)}
        if pupil is None:
            pupil = Pupil(establishment=self.version.establishment, eleve_id=record.eleve_id,
                          created_at=self.now, **values)
            self.session.add(pupil)
            self.pupils[record.eleve_id] = pupil
            self.report.add("pupil", record.eleve_id, "created")
            return pupil
        changed = [k for k, v in values.items() if getattr(pupil, k) != v]
        for key in changed:
            setattr(pupil, key, values[key])
        self.report.add("pupil", record.eleve_id, "updated" if changed else "unchanged")
        return pupil

    def account(self, guardian: GuardianRecord) -> FamilyAccount:
        """The guardian's one account across siblings and schools (by PERSONNE_ID)."""
        key = guardian.personne_id
        account = self.accounts.get(key)
        if account is not None and key in self.seen_accounts:
            return account
        who = f"Le responsable PERSONNE_ID={guardian.personne_id}"
        name = " ".join(p for p in (guardian.first_name, guardian.last_name) if p) or \
            guardian.personne_id
        for value, column, what in ((guardian.personne_id, FamilyAccount.personne_id,
                                     "PERSONNE_ID"), (name, FamilyAccount.display_name, "nom"),
                                    (guardian.email, FamilyAccount.email, "courriel")):
            _check_length(value, column, who, what)
        if account is None:
            account, code = new_family_account(self.session, self.hasher, display_name=name,
                                               email=guardian.email, personne_id=key,
                                               taken=self.new_logins, hashed=self.kept)
            self.accounts[guardian.personne_id] = account
            self.unflushed.append(account)
            self.report.add("account", guardian.personne_id, "created")
            self.new_credential(account, code)
        else:
            changed = account.display_name != name or account.email != guardian.email
            account.display_name, account.email = name, guardian.email
            if self.reset_codes:
                self.new_credential(account, reset_code(self.session, self.hasher, account,
                                                        hashed=self.kept))
                self.reset_accounts.append(account.id)
                self.report.add("account", guardian.personne_id, "updated", "nouveau code")
            else:
                self.report.add("account", guardian.personne_id,
                                "updated" if changed else "unchanged")
        self.seen_accounts.add(key)
        return account

    def new_credential(self, account: FamilyAccount, code: str) -> None:
        until = self.invitations_until if account.email else None
        token = None if until is None else \
            issue_invitation(self.session, account, expires_at=until, now=self.now)
        self.credentials[account.personne_id or ""] = Credential(
            login=account.login, code=code, display_name=account.display_name,
            email=account.email, personne_id=account.personne_id, invitation_token=token,
            invitation_expires_at=until)

    def guardianship(self, account: FamilyAccount, pupil: Pupil, personne_id: str,
                     confidential: bool | None) -> None:
        """The link of a guardian to a pupil; ``confidential`` is the source's word on the
        guardian's contact (None: the source does not say, an existing link keeps its flag)."""
        key = f"{personne_id}/{pupil.eleve_id}"
        if (account.id, pupil.id) in self.links:  # both None for new rows: never in links
            if confidential is None:
                self.report.add("guardianship", key, "unchanged")
                return
            changed = self.session.execute(
                update(Guardianship).where(Guardianship.account_id == account.id,
                                           Guardianship.pupil_id == pupil.id,
                                           Guardianship.confidential_contact != confidential)
                .values(confidential_contact=confidential))
            self.report.add("guardianship", key,
                            "updated" if changed.rowcount else "unchanged")  # type: ignore[attr-defined]
            return
        self.session.add(Guardianship(account=account, pupil=pupil, guardian_key=personne_id,
                                      confidential_contact=bool(confidential),
                                      created_at=self.now))
        self.report.add("guardianship", key, "created")

    def dossier(self, pupil: Pupil, dossier: Dossier | None, snapshot: dict[str, Any],
                provenance: dict[str, Any], *, has_guardian: bool) -> None:
        key = pupil.eleve_id or ""
        note = "" if has_guardian else WARN_NO_GUARDIAN
        if dossier is None:
            dossier = Dossier(pupil=pupil, campaign_version=self.version,
                              state=DossierState.NOT_STARTED, prefill=snapshot,
                              provenance=provenance, answers={}, computed={},
                              created_at=self.now, updated_at=self.now)
            dossier.record(Actor.system(), "created", at=self.now)
            self.session.add(dossier)
            self.new_dossiers.append(dossier)
            self.report.add("dossier", key, "created", note)
            return
        old = dict(dossier.prefill)
        if old == snapshot:
            self.report.add("dossier", key, "unchanged", note)
            return
        for spec in self.prefilled:
            self.flag_conflict(dossier, spec, old, snapshot)
        dossier.provenance = {k: dossier.provenance[k] if k in dossier.provenance and
                              value_at(old, k) == value_at(snapshot, k) else p
                              for k, p in provenance.items()}
        dossier.prefill = snapshot
        changed = sorted(k for k in set(old) | set(snapshot) if old.get(k) != snapshot.get(k))
        dossier.record(Actor.system(), "import_updated", {"parts": changed}, at=self.now)
        self.report.add("dossier", key, "updated", note)

    def flag_conflict(self, dossier: Dossier, spec: FieldSpec, old: Mapping[str, Any],
                      new: Mapping[str, Any]) -> None:
        """Record that the school's value moved while the family's answer (or the school's
        correction, which the new import does not replace either) differs from it."""
        assert spec.prefill is not None
        path = ".".join(spec.prefill)
        before, after = value_at(old, path), value_at(new, path)
        given = corrected_answers(dossier.answers, dossier.corrections)
        if spec.id not in given:
            return
        # rows are compared as imported; a value as the field reads it
        if before == after if spec.type.is_container else spec.type.same(before, after, spec):
            return
        answer = given[spec.id]
        if not spec.type.is_container and spec.type.same(after, answer, spec):
            return
        dossier.record(Actor.system(), "import_conflict", {"field": spec.id, "prefill": path},
                       at=self.now)
        pupil = dossier.pupil
        self.report.conflicts.append(Conflict(dossier.public_id,
                                              f"{pupil.first_name} {pupil.last_name}",
                                              spec.id, path))



def _check_length(value: str | None, column: QueryableAttribute[Any], who: str,
                  what: str) -> None:
    """Refuse the import with a clear reason when ``value`` does not fit ``column`` (the
    database error would say nothing useful)."""
    limit = column.type.length
    if value is not None and limit is not None and len(value) > limit:
        raise ImportRefused([error("VALUE_TOO_LONG", f"{who} a un {what} de {len(value)} "
                                   f"caractères (au plus {limit}) : corrigez-le dans SIECLE.")])


def _chunks(values: Sequence[Any], size: int = 500) -> Iterator[Sequence[Any]]:
    """Bounded ``IN (...)`` lists: SQLite caps the number of parameters of a statement."""
    for start in range(0, len(values), size):
        yield values[start:start + size]


_STEP = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def value_at(snapshot: Mapping[str, Any], path: str) -> Any:
    """The value at a dotted path with list indexes (``guardians[0].address.line1``)."""
    node: Any = snapshot
    for name, index in _STEP.findall(path):
        if name:
            node = node.get(name) if isinstance(node, Mapping) else None
        else:
            node = node[int(index)] if isinstance(node, list) and int(index) < len(node) else None
        if node is None:
            return None
    return node

