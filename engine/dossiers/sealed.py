"""Health data sealed at rest: the one place that knows which answers are health data, how
they are encrypted and where they are stored.

A field is health data when it, its page or its repeat is marked ``restricted: health``
(:func:`is_health`). Its answers never reach ``Dossier.answers``: the save path splits them out
(:func:`split`) and seals them into ``Dossier.sealed_answers``; a reader allowed to see them
(the family, the infirmerie) gets them back through :func:`opened_answers`. Every other reader
(staff views, diffs, the list, exports) reads ``Dossier.answers``, which holds none of them.

Envelope encryption with AES-256-GCM (docs/configuration.md#health-data-keys): each sealing
draws a random data key, encrypts the values with it, and encrypts (wraps) the data key with
the current master key. Both carry the dossier's public id as associated data, so a sealed
value copied onto another dossier does not open. The stored text names the master key by its
id, so a rotation only rewraps the 32-byte data keys, and a missing key is named at start-up.

The master keys travel with the database sessions (:func:`bind`), as the database does: the
app binds its key ring to its session factory, a command to its own.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, object_session, sessionmaker

from engine.campaign.model import HEALTH, Campaign, FieldSpec
from engine.config import ConfigError
from engine.diagnostics import EngineError

from .models import Dossier

#: version tag of the stored form: ``dsco1.<key id>.<wrapped data key>.<sealed values>``
PREFIX: Final = "dsco1"
#: hex digits of a master key's id
KEY_ID_LENGTH: Final = 16
#: where a session's key ring is kept (``Session.info``)
_RING: Final = "dossiersco.keyring"
_NONCE: Final = 12


class SealedDataError(EngineError):
    """Health data cannot be sealed or opened: no key ring, an unknown key, altered data."""


class MissingKeyError(SealedDataError, ConfigError):
    """Stored health data was sealed with master keys the configuration does not hold: a
    configuration error, which stops the app from starting."""

    def __init__(self, key_ids: Iterable[str], known: Iterable[str]) -> None:
        self.key_ids = sorted(key_ids)
        have = ", ".join(sorted(known)) or "none"
        super().__init__(
            f"the health data of this database was encrypted with the data key(s) "
            f"{', '.join(self.key_ids)}, which DOSSIERSCO_DATA_KEY does not hold (it has: "
            f"{have}); give the key that encrypted them (old keys after the new one, "
            "comma-separated), see docs/configuration.md")


def is_health(spec: FieldSpec) -> bool:
    """Whether the answers of ``spec`` are health data: the one predicate every reader asks
    (staff views, exports)."""
    return spec.restricted == HEALTH


def not_health(spec: FieldSpec) -> bool:
    """The ``include`` filter of a reader who may not see health data."""
    return spec.restricted != HEALTH


def health_keys(campaign: Campaign) -> frozenset[str]:
    """The answer keys holding health data (top-level field ids; a repeat's rows are under its
    id), computed once per campaign."""
    return campaign.derived("health_keys", lambda: frozenset(
        s.id for s in campaign.top_fields() if is_health(s) and s.type.has_value))


def split(campaign: Campaign, answers: Mapping[str, Any],
          ) -> tuple[dict[str, Any], dict[str, Any]]:
    """``answers`` as (what may be stored in clear, the health values)."""
    keys = health_keys(campaign)
    if not keys or keys.isdisjoint(answers):
        return dict(answers), {}
    clear = {k: v for k, v in answers.items() if k not in keys}
    return clear, {k: v for k, v in answers.items() if k in keys}


def key_id(key: bytes) -> str:
    """A master key's public name: a digest of it, never the key."""
    return hashlib.sha256(b"dossiersco data key\0" + key).hexdigest()[:KEY_ID_LENGTH]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class KeyRing:
    """The master keys: the first seals, every one of them opens."""

    def __init__(self, keys: Sequence[bytes]) -> None:
        if not keys:
            raise SealedDataError("no data key: set DOSSIERSCO_DATA_KEY")
        self._keys = {key_id(k): AESGCM(k) for k in keys}
        self.current = key_id(keys[0])

    @property
    def key_ids(self) -> tuple[str, ...]:
        return tuple(self._keys)

    def seal(self, values: Mapping[str, Any], public_id: str) -> str:
        """``values`` (JSON) encrypted for the dossier ``public_id``, under the current key."""
        data_key = AESGCM.generate_key(bit_length=256)
        nonce = secrets.token_bytes(_NONCE)
        body = nonce + AESGCM(data_key).encrypt(
            nonce, json.dumps(values, ensure_ascii=False, sort_keys=True).encode(),
            public_id.encode())
        return self._wrap(data_key, public_id, _b64(body))

    def _wrap(self, data_key: bytes, public_id: str, body: str) -> str:
        nonce = secrets.token_bytes(_NONCE)
        wrapped = nonce + self._keys[self.current].encrypt(
            nonce, data_key, f"{self.current}:{public_id}".encode())
        return f"{PREFIX}.{self.current}.{_b64(wrapped)}.{body}"

    def _data_key(self, sealed: str, public_id: str) -> tuple[bytes, str]:
        """The data key of ``sealed`` and its encrypted values."""
        try:
            prefix, kid, wrapped, body = sealed.split(".")
        except ValueError:
            raise SealedDataError("stored health data is not in a known form") from None
        if prefix != PREFIX:
            raise SealedDataError("stored health data is not in a known form")
        master = self._keys.get(kid)
        if master is None:
            raise MissingKeyError([kid], self._keys)
        raw = _unb64(wrapped)
        try:
            return master.decrypt(raw[:_NONCE], raw[_NONCE:],
                                  f"{kid}:{public_id}".encode()), body
        except InvalidTag:
            raise SealedDataError("stored health data was altered, or belongs to another "
                                  "dossier") from None

    def open(self, sealed: str, public_id: str) -> dict[str, Any]:
        """The values of ``sealed``, which must have been sealed for ``public_id``."""
        data_key, body = self._data_key(sealed, public_id)
        raw = _unb64(body)
        try:
            text = AESGCM(data_key).decrypt(raw[:_NONCE], raw[_NONCE:], public_id.encode())
        except InvalidTag:
            raise SealedDataError("stored health data was altered") from None
        values = json.loads(text)
        return values if isinstance(values, dict) else {}

    def rewrap(self, sealed: str, public_id: str) -> str:
        """``sealed`` with its data key wrapped by the current master key (the values
        themselves are not decrypted)."""
        data_key, body = self._data_key(sealed, public_id)
        return self._wrap(data_key, public_id, body)


def bind(sessions: sessionmaker[Session], ring: KeyRing) -> None:
    """Give every session of ``sessions`` the key ring."""
    sessions.configure(info={_RING: ring})


def ring_of(session: Session) -> KeyRing:
    ring = session.info.get(_RING)
    if not isinstance(ring, KeyRing):
        raise SealedDataError("this database session has no data key: health data can "
                              "neither be written nor read")
    return ring


def _session_of(dossier: Dossier) -> Session:
    session = object_session(dossier)
    if session is None:
        raise SealedDataError("the dossier is not attached to a database session")
    return session


def health_answers(dossier: Dossier) -> dict[str, Any]:
    """The health values of ``dossier``, decrypted (empty when it has none)."""
    if dossier.sealed_answers is None:
        return {}
    return ring_of(_session_of(dossier)).open(dossier.sealed_answers, dossier.public_id)


def opened_answers(dossier: Dossier) -> dict[str, Any]:
    """Every answer of ``dossier``, health values included: for the family and the
    infirmerie only."""
    if dossier.sealed_answers is None:
        return dossier.answers
    return {**dossier.answers, **health_answers(dossier)}


def family_answers(dossier: Dossier, campaign: Campaign) -> dict[str, Any]:
    """What the family reads as its answers: :func:`opened_answers` with the school's
    corrections of the fields ``campaign`` shows the family (never a staff-only value)."""
    answers = opened_answers(dossier)
    shown = {k: v for k, v in dossier.corrections.items()
             if k in campaign.fields and not campaign.fields[k].staff_only}
    return {**answers, **shown} if shown else answers


def sealed_with(session: Session, dossier: Dossier, values: Mapping[str, Any]) -> str:
    """The sealed text of the dossier's health values with ``values`` written over them."""
    ring = ring_of(session)
    current = ring.open(dossier.sealed_answers, dossier.public_id) \
        if dossier.sealed_answers is not None else {}
    return ring.seal({**current, **values}, dossier.public_id)


def check_keys(session: Session, ring: KeyRing) -> None:
    """Refuse a key ring that cannot open the health data already stored.

    :raises MissingKeyError: some dossier was sealed under a key the ring does not hold.
    """
    start = len(PREFIX) + 2
    used = set(session.scalars(
        select(func.substr(Dossier.sealed_answers, start, KEY_ID_LENGTH))
        .where(Dossier.sealed_answers.is_not(None)).distinct()))
    missing = used - set(ring.key_ids)
    if missing:
        raise MissingKeyError(missing, ring.key_ids)


def rotate(session: Session, ring: KeyRing, *, batch: int = 200) -> int:
    """Rewrap every dossier's health data under the ring's current key, ``batch`` dossiers a
    transaction; returns how many were rewrapped. Run again after an interruption: the
    dossiers already under the current key are left alone.

    :raises MissingKeyError: a dossier was sealed under a key the ring does not hold.
    """
    check_keys(session, ring)
    done = 0
    marker = f"{PREFIX}.{ring.current}.%"
    while True:
        rows = session.execute(
            select(Dossier.id, Dossier.public_id, Dossier.sealed_answers)
            .where(Dossier.sealed_answers.is_not(None),
                   Dossier.sealed_answers.not_like(marker))
            .order_by(Dossier.id).limit(batch)).all()
        if not rows:
            return done
        for dossier_id, public_id, sealed in rows:
            assert sealed is not None  # selected on it
            # the row version is left as it is (the answers did not change); a dossier saved
            # since the SELECT is left alone: its new text is already under the current key
            result = session.execute(
                update(Dossier).where(Dossier.id == dossier_id, Dossier.sealed_answers == sealed)
                .values(sealed_answers=ring.rewrap(sealed, public_id),
                        updated_at=Dossier.updated_at)
                .execution_options(synchronize_session=False))
            done += result.rowcount  # type: ignore[attr-defined]  # a CursorResult
        session.commit()
