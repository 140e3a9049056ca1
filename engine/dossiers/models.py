"""ORM models: establishments, campaign versions, pupils, family accounts, dossiers and files.

Public identifiers in URLs are random tokens (``public_id``); pupil ids (INE, SIECLE) never
leave the server in a URL.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import date, datetime
from enum import StrEnum
from typing import Any, Protocol

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    Enum,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.mutable import MutableDict
from sqlalchemy.orm import Mapped, mapped_column, object_session, query_expression, relationship

from engine.db import Base, PortableJSON, UTCDateTime, utcnow

from .states import Actor, DossierState


def new_public_id() -> str:
    """128 random bits, URL-safe (22 characters), never starting with "-" (a command-line
    argument such as ``dossiersco recompute ID`` would read it as an option)."""
    while True:
        public_id = secrets.token_urlsafe(16)
        if not public_id.startswith("-"):
            return public_id


def _json_plain() -> Any:
    # a type instance of its own (PortableJSON is bound to MutableDict by _json_dict): values
    # are replaced as a whole, never changed in place
    return JSON().with_variant(JSONB(), "postgresql")


def _json_dict() -> Any:
    # top-level changes mark the row dirty; nested changes still need a reassignment
    return MutableDict.as_mutable(PortableJSON)


class Establishment(Base):
    __tablename__ = "establishment"

    id: Mapped[int] = mapped_column(primary_key=True)
    uai: Mapped[str] = mapped_column(String(8), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    contact_email: Mapped[str | None] = mapped_column(String(254))
    contact_phone: Mapped[str | None] = mapped_column(String(30))
    address: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    pupils: Mapped[list[Pupil]] = relationship(back_populates="establishment")
    campaign_versions: Mapped[list[CampaignVersion]] = relationship(
        back_populates="establishment")


class CampaignVersion(Base):
    """One exact campaign text: dossiers point at the version they were filled against."""

    __tablename__ = "campaign_version"
    __table_args__ = (UniqueConstraint("slug", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(100))
    #: SHA-256 of the YAML source
    version: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(300))
    source: Mapped[str] = mapped_column(Text)
    establishment_id: Mapped[int] = mapped_column(ForeignKey("establishment.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    establishment: Mapped[Establishment] = relationship(back_populates="campaign_versions")
    dossiers: Mapped[list[Dossier]] = relationship(back_populates="campaign_version")


class Pupil(Base):
    """Enough of a pupil to list dossiers; the full imported record is the dossier's prefill."""

    __tablename__ = "pupil"
    __table_args__ = (UniqueConstraint("establishment_id", "eleve_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    establishment_id: Mapped[int] = mapped_column(ForeignKey("establishment.id"), index=True)
    eleve_id: Mapped[str | None] = mapped_column(String(20))
    ine: Mapped[str | None] = mapped_column(String(11))
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    birth_date: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    establishment: Mapped[Establishment] = relationship(back_populates="pupils")
    guardianships: Mapped[list[Guardianship]] = relationship(back_populates="pupil")
    dossiers: Mapped[list[Dossier]] = relationship(back_populates="pupil")


class FamilyAccount(Base):
    """One legal guardian's credentials: a login and a secret code handed out by the school."""

    __tablename__ = "family_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    login: Mapped[str] = mapped_column(String(16), unique=True)
    code_hash: Mapped[str] = mapped_column(String(255))
    display_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))
    personne_id: Mapped[str | None] = mapped_column(String(20), index=True)
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: bumped to end every open session of this account at once (revocation, code change)
    session_epoch: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    guardianships: Mapped[list[Guardianship]] = relationship(back_populates="account")

    # Flask-Login's user protocol
    is_active = True
    is_authenticated = True
    is_anonymous = False

    def get_id(self) -> str:
        """Session identity: the id and the epoch, so that bumping the epoch logs out."""
        return f"{self.id}.{self.session_epoch}"


class Guardianship(Base):
    """A family account is a legal guardian of a pupil."""

    __tablename__ = "guardianship"
    __table_args__ = (UniqueConstraint("account_id", "pupil_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("family_account.id"), index=True)
    pupil_id: Mapped[int] = mapped_column(ForeignKey("pupil.id"), index=True)
    #: which guardian of the imported pupil record this is (PERSONNE_ID or position)
    guardian_key: Mapped[str] = mapped_column(String(40))
    #: the school marked this guardian's contact details confidential: the other guardian of
    #: the pupil must never see them
    confidential_contact: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    account: Mapped[FamilyAccount] = relationship(back_populates="guardianships")
    pupil: Mapped[Pupil] = relationship(back_populates="guardianships")


class Dossier(Base):
    """One pupil's re-enrolment for one campaign version."""

    __tablename__ = "dossier"
    __table_args__ = (UniqueConstraint("pupil_id", "campaign_version_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=new_public_id)
    pupil_id: Mapped[int] = mapped_column(ForeignKey("pupil.id"), index=True)
    campaign_version_id: Mapped[int] = mapped_column(ForeignKey("campaign_version.id"),
                                                     index=True)
    state: Mapped[DossierState] = mapped_column(
        Enum(DossierState, name="dossier_state", native_enum=False, create_constraint=True,
             length=20, values_callable=lambda states: [s.value for s in states]),
        default=DossierState.NOT_STARTED)
    prefill: Mapped[dict[str, Any]] = mapped_column(_json_dict(), default=dict)
    provenance: Mapped[dict[str, Any]] = mapped_column(_json_dict(), default=dict)
    answers: Mapped[dict[str, Any]] = mapped_column(_json_dict(), default=dict)
    #: the answers to health fields, encrypted (``engine.dossiers.sealed``); never in ``answers``
    sealed_answers: Mapped[str | None] = mapped_column(Text)
    #: fees and explanations, frozen at submission
    computed: Mapped[dict[str, Any]] = mapped_column(_json_dict(), default=dict)
    current_page: Mapped[str | None] = mapped_column(String(100))
    #: optimistic lock: every UPDATE checks and bumps it
    row_version: Mapped[int] = mapped_column(Integer)
    correction_message: Mapped[str | None] = mapped_column(Text)
    #: field and document ids the school asked the family to correct (with the message)
    correction_targets: Mapped[list[str]] = mapped_column(_json_plain(), default=list)
    #: the answers when the school last looked (sent back or validated): "changed since"
    reviewed_answers: Mapped[dict[str, Any] | None] = mapped_column(_json_plain())
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: values corrected by the school (locked ones included): they win over answers and prefill
    corrections: Mapped[dict[str, Any]] = mapped_column(_json_plain(), default=dict)
    #: who typed each contact detail (location → family account id, ``campaigns.location``):
    #: a confidential guardian's own details stay masked whatever row they were typed in
    contact_owners: Mapped[dict[str, str]] = mapped_column(_json_plain(), default=dict)
    #: the school's decision on each request for an option with places, by field id:
    #: {"value": the option decided, "status": accepted | refused | waiting}
    #: (``engine.dossiers.places``); none for a request not decided yet
    place_decisions: Mapped[dict[str, dict[str, str]]] = mapped_column(_json_plain(),
                                                                       default=dict)
    #: the answers to ``scope: per_guardian`` fields, each guardian's own
    #: (``engine.dossiers.guardian_answers``): {field id: {guardian key: {"value", "account",
    #: "at"}}}; never in ``answers``
    guardian_answers: Mapped[dict[str, Any]] = mapped_column(_json_plain(), default=dict)
    leaving_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    validated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: family facts loaded with the dossier by the family pages' lookup, else None
    #: (``engine.dossiers.family``)
    siblings: Mapped[int | None] = query_expression()
    elder_siblings: Mapped[int | None] = query_expression()

    pupil: Mapped[Pupil] = relationship(back_populates="dossiers")
    campaign_version: Mapped[CampaignVersion] = relationship(back_populates="dossiers")
    events: Mapped[list[DossierEvent]] = relationship(
        back_populates="dossier", order_by="DossierEvent.id", cascade="all, delete-orphan")
    files: Mapped[list[StoredFile]] = relationship(back_populates="dossier",
                                                   order_by="StoredFile.id")
    documents: Mapped[list[DossierDocument]] = relationship(
        back_populates="dossier", order_by="DossierDocument.id", cascade="all, delete-orphan")

    __mapper_args__ = {"version_id_col": row_version}

    def record(self, actor: Actor, kind: str, data: Mapping[str, Any] | None = None, *,
               at: datetime | None = None) -> DossierEvent:
        """Add an event to the history without loading the history (it only ever grows, and
        a save must not read hundreds of rows to append one)."""
        event = DossierEvent(dossier=self, at=at or utcnow(), actor_kind=actor.kind.value,
                             actor_id=actor.id, kind=kind, data=dict(data or {}))
        session = object_session(self)
        if session is not None:
            session.add(event)
        return event

    @property
    def reference(self) -> str:
        """The number a family quotes to the school about this dossier (page, mail, PDF)."""
        year = (self.submitted_at or self.created_at or utcnow()).year
        return f"{year}-{self.id:06d}"

    @property
    def submitted_by(self) -> str | None:
        """Name of the guardian who last sent the dossier (None if staff or nobody did)."""
        sent = [e for e in self.events if e.kind == "state_changed"
                and (e.data or {}).get("to") == "submitted"]
        if not sent or sent[-1].actor_kind != "family":
            return None
        account_id = sent[-1].actor_id
        return next((g.account.display_name for g in self.pupil.guardianships
                     if str(g.account_id) == account_id), None)


class PupilData(Protocol):
    """What reading a dossier's pupil needs: a stored :class:`Pupil` or an export's record of
    one (``engine.exports.selection.PupilRecord``)."""

    @property
    def id(self) -> int: ...
    @property
    def establishment_id(self) -> int: ...
    @property
    def ine(self) -> str | None: ...
    @property
    def first_name(self) -> str: ...
    @property
    def last_name(self) -> str: ...
    @property
    def birth_date(self) -> date | None: ...
    @property
    def guardianships(self) -> list[Guardianship]: ...


class DossierData(Protocol):
    """What reading a dossier needs: a stored :class:`Dossier`, or an export's read-only
    record of one (``engine.exports.selection.DossierRecord``, read with plain rows instead of
    ORM instances). The functions that only read a dossier take either."""

    @property
    def id(self) -> int: ...
    @property
    def public_id(self) -> str: ...
    @property
    def pupil_id(self) -> int: ...
    @property
    def campaign_version_id(self) -> int: ...
    @property
    def state(self) -> DossierState: ...
    @property
    def row_version(self) -> int: ...
    @property
    def prefill(self) -> dict[str, Any]: ...
    @property
    def provenance(self) -> dict[str, Any]: ...
    @property
    def answers(self) -> dict[str, Any]: ...
    @property
    def corrections(self) -> dict[str, Any]: ...
    @property
    def computed(self) -> dict[str, Any]: ...
    @property
    def guardian_answers(self) -> dict[str, Any]: ...
    @property
    def place_decisions(self) -> dict[str, dict[str, str]]: ...
    @property
    def submitted_at(self) -> datetime | None: ...
    @property
    def validated_at(self) -> datetime | None: ...
    @property
    def siblings(self) -> int | None: ...
    @property
    def elder_siblings(self) -> int | None: ...
    @property
    def pupil(self) -> PupilData: ...
    @property
    def files(self) -> list[StoredFile]: ...
    @property
    def events(self) -> list[DossierEvent]: ...


class DossierEvent(Base):
    """History of a dossier: who did what, when (ids and field names, no answer values)."""

    __tablename__ = "dossier_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossier.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_kind: Mapped[str] = mapped_column(String(20))
    actor_id: Mapped[str | None] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(40))
    data: Mapped[dict[str, Any]] = mapped_column(PortableJSON, default=dict)

    dossier: Mapped[Dossier] = relationship(back_populates="events")


class StoredFile(Base):
    """An uploaded document checked by content; the bytes live in storage under a random key."""

    __tablename__ = "stored_file"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=new_public_id)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossier.id"), index=True)
    #: the document's slot (the campaign document id, or ``<id>~<row key>`` for one row of a
    #: per-row document, ``engine.campaign.model.document_slot``), or the file field id
    document_id: Mapped[str] = mapped_column(String(200))
    storage_key: Mapped[str] = mapped_column(String(64), unique=True)
    filename: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    mime_type: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("family_account.id"))
    #: set when an agent uploaded the file on behalf of the family
    uploaded_by_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_account.id"))
    #: the school's decision (``engine.dossiers.review.DocumentDecision``)
    review_status: Mapped[str] = mapped_column(String(20), default="to_review")
    refusal_reason: Mapped[str | None] = mapped_column(String(20))
    refusal_note: Mapped[str | None] = mapped_column(Text)
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_account.id"))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: quarter turns clockwise asked by an agent for the preview
    rotation: Mapped[int] = mapped_column(Integer, default=0)

    dossier: Mapped[Dossier] = relationship(back_populates="files")
    uploaded_by: Mapped[FamilyAccount | None] = relationship()


class DossierDocument(Base):
    """What the family declared about one campaign document of a dossier, apart from its files.

    For now the date of a dated proof (freshness rule ``max_age_months``); the files themselves
    are :class:`StoredFile` rows with the same ``document_id``.
    """

    __tablename__ = "dossier_document"
    __table_args__ = (UniqueConstraint("dossier_id", "document_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossier.id"), index=True)
    #: the document's slot, as :attr:`StoredFile.document_id`
    document_id: Mapped[str] = mapped_column(String(200))
    #: the date printed on the proof, as declared by the family
    document_date: Mapped[date | None] = mapped_column(Date)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("family_account.id"))

    dossier: Mapped[Dossier] = relationship(back_populates="documents")


class SatisfactionRating(Base):
    """A guardian's rating of a dossier after submitting (1 to 5, optional comment): one per
    guardian and dossier (``account_id`` is None for ratings older than that rule)."""

    __tablename__ = "satisfaction_rating"
    __table_args__ = (CheckConstraint("score BETWEEN 1 AND 5", name="score_range"),
                      UniqueConstraint("dossier_id", "account_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossier.id"), index=True)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("family_account.id"), index=True)
    score: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Invitation(Base):
    """A single-use, expiring link e-mailed to a guardian that logs them in once.

    Only the SHA-256 of the token is stored: the link is a bearer secret, like a code.
    """

    __tablename__ = "invitation"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("family_account.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    account: Mapped[FamilyAccount] = relationship()


# -- the school's side ----------------------------------------------------------------------

class StaffRole(StrEnum):
    """What a staff member may do in one establishment (``engine.dossiers.permissions``)."""

    DIRECTION = "direction"
    SECRETARIAT = "secretariat"
    GESTION = "gestion"
    INFIRMERIE = "infirmerie"
    READ_ONLY = "lecture"


class StaffAccount(Base):
    """A school agent (or a deployment administrator): e-mail, password and a second factor.

    The password is unset until the invitation link is used; the TOTP secret until the second
    factor is enrolled (no page of the school's side opens before both exist).
    """

    __tablename__ = "staff_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    #: the last TOTP time step accepted: a code is never accepted twice (replay)
    totp_last_step: Mapped[int | None] = mapped_column(Integer)
    #: SHA-256 of the unused recovery codes (random, high-entropy: no slow hash needed)
    recovery_codes: Mapped[list[str]] = mapped_column(_json_plain(), default=list)
    #: administrator of the deployment: every establishment, agents and campaigns
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: bumped to end every open session of this account at once ("logout everywhere")
    session_epoch: Mapped[int] = mapped_column(Integer, default=0)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    memberships: Mapped[list[StaffMembership]] = relationship(
        back_populates="staff", cascade="all, delete-orphan", order_by="StaffMembership.id")


class StaffMembership(Base):
    """A staff member's role in one establishment."""

    __tablename__ = "staff_membership"
    __table_args__ = (UniqueConstraint("staff_id", "establishment_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_account.id"), index=True)
    establishment_id: Mapped[int] = mapped_column(ForeignKey("establishment.id"), index=True)
    role: Mapped[StaffRole] = mapped_column(
        Enum(StaffRole, name="staff_role", native_enum=False, create_constraint=True,
             length=20, values_callable=lambda roles: [r.value for r in roles]))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    staff: Mapped[StaffAccount] = relationship(back_populates="memberships")
    establishment: Mapped[Establishment] = relationship()


class StaffToken(Base):
    """A single-use, expiring link for a staff member: invitation (set a password) or reset.

    Only the SHA-256 of the token is stored, as for family invitations.
    """

    __tablename__ = "staff_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_account.id"), index=True)
    purpose: Mapped[str] = mapped_column(String(20))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    staff: Mapped[StaffAccount] = relationship()


class AuditEntry(Base):
    """One staff action, chained to the previous entry by a hash (``engine.dossiers.audit``).

    Append-only: the code has no update or delete path, and ``seq`` is unique so two writers
    cannot fork the chain.
    """

    __tablename__ = "audit_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, unique=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor_kind: Mapped[str] = mapped_column(String(20))
    actor_id: Mapped[str | None] = mapped_column(String(40))
    establishment_id: Mapped[int | None] = mapped_column(ForeignKey("establishment.id"),
                                                         index=True)
    dossier_id: Mapped[int | None] = mapped_column(Integer, index=True)
    action: Mapped[str] = mapped_column(String(40))
    #: ids, field names and counts; never an answer value
    data: Mapped[dict[str, Any]] = mapped_column(PortableJSON, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    entry_hash: Mapped[str] = mapped_column(String(64))


class ChangeSummary(Base):
    """Which fields and pages of a dossier differ from what the school knew, as of one row
    version: a cache of :func:`engine.dossiers.diff.dossier_changes` for the staff list's
    filters and counts, refreshed when the dossier's version moved (never part of the dossier
    row, so writing it cannot collide with a family's save)."""

    __tablename__ = "change_summary"

    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossier.id", ondelete="CASCADE"),
                                            primary_key=True)
    row_version: Mapped[int] = mapped_column(Integer)
    fields: Mapped[list[str]] = mapped_column(_json_plain(), default=list)
    pages: Mapped[list[str]] = mapped_column(_json_plain(), default=list)


class MessageTemplate(Base):
    """The text of one kind of reminder for one campaign, as the school edited it (the
    default text of ``templates/mail/reminder_<audience>.txt`` until then)."""

    __tablename__ = "message_template"
    __table_args__ = (UniqueConstraint("establishment_id", "campaign_slug", "audience"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    establishment_id: Mapped[int] = mapped_column(ForeignKey("establishment.id"))
    campaign_slug: Mapped[str] = mapped_column(String(100))
    audience: Mapped[str] = mapped_column(String(30))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_account.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class SentMessage(Base):
    """One message to one guardian, sent or not: the log of what was sent to whom."""

    __tablename__ = "sent_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    establishment_id: Mapped[int] = mapped_column(ForeignKey("establishment.id"), index=True)
    campaign_slug: Mapped[str] = mapped_column(String(100))
    dossier_id: Mapped[int | None] = mapped_column(ForeignKey("dossier.id", ondelete="SET NULL"),
                                                   index=True)
    account_id: Mapped[int | None] = mapped_column(
        ForeignKey("family_account.id", ondelete="SET NULL"))
    #: the background job that sent it (``job.id``; no foreign key: jobs are purged)
    job_id: Mapped[int | None] = mapped_column(Integer, index=True)
    #: reminder audience (``not_started``…), ``one_off``, ``selection`` or a review notice
    #: (``refusal``, ``sent_back``, ``place_decision``)
    kind: Mapped[str] = mapped_column(String(30))
    address: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(200))
    #: ``sent`` or ``failed``
    status: Mapped[str] = mapped_column(String(10))
    error: Mapped[str | None] = mapped_column(Text)
    sent_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_account.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class GuardianProfile(Base):
    """A guardian's own data (contact, address, profession) as last entered in any of their
    children's dossiers of an establishment, so every sibling's dossier shows it.

    Keyed by the guardian's imported identity (SIECLE's PERSONNE_ID, the key of their row in
    the guardians repeat); ``values`` holds the person-level children of that row.
    """

    __tablename__ = "guardian_profile"
    __table_args__ = (UniqueConstraint("establishment_id", "guardian_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    establishment_id: Mapped[int] = mapped_column(ForeignKey("establishment.id"), index=True)
    guardian_key: Mapped[str] = mapped_column(String(40))
    values: Mapped[dict[str, Any]] = mapped_column(_json_plain(), default=dict)
    #: where and when each value was last entered: {child id: [dossier id, ISO time]}
    sources: Mapped[dict[str, Any]] = mapped_column(_json_plain(), default=dict)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ImportState(StrEnum):
    #: files stored, the dry run queued or running
    CHECKING = "checking"
    #: the dry run is done and found nothing blocking: waiting for the agent's confirmation
    CHECKED = "checked"
    #: the files (or the dry run) were refused: the report says why
    REFUSED = "refused"
    #: confirmed: the import job is queued or running (holds the establishment's lock)
    IMPORTING = "importing"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


class ImportRun(Base):
    """One import from the web: the uploaded files (in storage until the run ends), the dry
    run's and then the import's report, the letters made, and the establishment's lock.

    ``running_for`` is the establishment's id while the run imports, NULL otherwise: unique,
    so the database itself refuses a second import running at once in one establishment.
    """

    __tablename__ = "import_run"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=new_public_id)
    establishment_id: Mapped[int] = mapped_column(ForeignKey("establishment.id"), index=True)
    campaign_slug: Mapped[str] = mapped_column(String(100))
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_account.id"))
    state: Mapped[str] = mapped_column(String(20), default=ImportState.CHECKING.value)
    running_for: Mapped[int | None] = mapped_column(Integer, unique=True)
    #: [{"name", "key", "size"}] of the uploaded files, emptied once the run ends
    files: Mapped[list[Any]] = mapped_column(_json_plain(), default=list)
    #: "auto" (SIECLE XML, or a lone spreadsheet as "Fiches élèves"), "fiches", "mapping"
    reader: Mapped[str] = mapped_column(String(20), default="auto")
    #: the column mapping (YAML) given with a spreadsheet
    mapping: Mapped[str | None] = mapped_column(Text)
    #: what the dry run, then the import, found: counts, reasons, conflicts, problems
    report: Mapped[dict[str, Any]] = mapped_column(_json_plain(), default=dict)
    #: public ids of the dry run's and of the import's jobs
    check_job: Mapped[str | None] = mapped_column(String(32))
    import_job: Mapped[str | None] = mapped_column(String(32))
    #: the letters PDF and mail-merge CSV of the new codes, until ``expires_at``
    letters_key: Mapped[str | None] = mapped_column(String(64))
    csv_key: Mapped[str | None] = mapped_column(String(64))
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def import_state(self) -> ImportState:
        return ImportState(self.state)
