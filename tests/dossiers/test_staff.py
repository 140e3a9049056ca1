"""Staff accounts: CNIL password rules, single-use links, TOTP with replay protection and
recovery codes, one answer for every login failure, lockout, logout everywhere."""

from __future__ import annotations

from datetime import timedelta

import pyotp
import pytest
from flask import Flask
from sqlalchemy.orm import Session

from engine.db import utcnow
from engine.dossiers.models import StaffAccount, StaffRole
from engine.dossiers.permissions import Permission, can, permissions_in
from engine.dossiers.services import ensure_establishment
from engine.dossiers.staff import (
    StaffError,
    StaffLoginOutcome,
    TokenPurpose,
    authenticate_staff,
    create_staff,
    end_all_sessions,
    enrol_totp,
    grant_role,
    issue_token,
    load_staff,
    new_totp_secret,
    password_problems,
    set_password_with_token,
    verify_second_factor,
)
from engine.web.state import app_state

PASSWORD = "Correct-Horse-42"
LOCK = {"max_failures": 3, "lockout": timedelta(minutes=15)}


def _session(app: Flask) -> Session:
    return app_state(app).database.sessions()


def _invited(app: Flask, session: Session, email: str = "secretariat@clg.fr") -> tuple[
        StaffAccount, str]:
    account = create_staff(session, email=email, display_name="Mme Martin")
    session.flush()
    token = issue_token(session, account, TokenPurpose.INVITATION, ttl=timedelta(hours=48))
    session.commit()
    return account, token


@pytest.mark.parametrize(("password", "ok"), [
    ("Abcdefgh12!x", True),           # 12 characters of the four kinds
    ("Abcdefgh12xy", False),          # 12 characters, three kinds
    ("abcdefghij12xy", False),        # 14 characters, two kinds
    ("Abcdefghij12xy", True),         # 14 characters, three kinds
    ("Ab1!", False),
    ("A" * 60 + "b1!" + "x" * 70, False),  # over 128
])
def test_password_rules_follow_the_cnil(password: str, ok: bool) -> None:
    assert (password_problems(password) == []) is ok


def test_invitation_link_sets_the_password_once(app: Flask) -> None:
    hasher = app_state(app).hasher
    with _session(app) as session:
        account, token = _invited(app, session)
        epoch = account.session_epoch
        set_password_with_token(session, hasher, token, TokenPurpose.INVITATION, PASSWORD)
        assert account.session_epoch == epoch + 1
        with pytest.raises(StaffError) as reused:
            set_password_with_token(session, hasher, token, TokenPurpose.INVITATION, PASSWORD)
        assert reused.value.code == "STAFF_004"
        result = authenticate_staff(session, hasher, "SECRETARIAT@clg.fr", PASSWORD, **LOCK)
        assert result.outcome is StaffLoginOutcome.OK


def test_a_link_of_another_purpose_or_expired_is_refused(app: Flask) -> None:
    hasher = app_state(app).hasher
    with _session(app) as session:
        account, token = _invited(app, session)
        with pytest.raises(StaffError):
            set_password_with_token(session, hasher, token, TokenPurpose.RESET, PASSWORD)
        expired = issue_token(session, account, TokenPurpose.RESET, ttl=timedelta(hours=1),
                              now=utcnow() - timedelta(hours=2))
        session.commit()
        with pytest.raises(StaffError):
            set_password_with_token(session, hasher, expired, TokenPurpose.RESET, PASSWORD)


def test_a_weak_password_is_refused_and_the_link_stays_usable(app: Flask) -> None:
    hasher = app_state(app).hasher
    with _session(app) as session:
        _, token = _invited(app, session)
        with pytest.raises(StaffError) as weak:
            set_password_with_token(session, hasher, token, TokenPurpose.INVITATION, "court")
        assert weak.value.code == "STAFF_003"
        set_password_with_token(session, hasher, token, TokenPurpose.INVITATION, PASSWORD)


def test_every_login_failure_answers_the_same_and_locks_after_the_limit(app: Flask) -> None:
    hasher = app_state(app).hasher
    with _session(app) as session:
        account, token = _invited(app, session)
        set_password_with_token(session, hasher, token, TokenPurpose.INVITATION, PASSWORD)
        unknown = authenticate_staff(session, hasher, "nobody@clg.fr", PASSWORD, **LOCK)
        malformed = authenticate_staff(session, hasher, "not an address", PASSWORD, **LOCK)
        assert unknown.outcome is malformed.outcome is StaffLoginOutcome.FAILED
        results = [authenticate_staff(session, hasher, account.email, "wrong", **LOCK)
                   for _ in range(3)]
        assert [r.outcome for r in results] == [StaffLoginOutcome.FAILED] * 3
        assert [r.locked for r in results] == [False, False, True]
        # locked: even the right password fails, with the same outcome
        assert authenticate_staff(session, hasher, account.email, PASSWORD,
                                  **LOCK).outcome is StaffLoginOutcome.FAILED
        later = utcnow() + timedelta(minutes=16)
        assert authenticate_staff(session, hasher, account.email, PASSWORD, now=later,
                                  **LOCK).outcome is StaffLoginOutcome.OK


def test_totp_enrolment_codes_are_single_use_and_recovery_codes_work_once(app: Flask) -> None:
    with _session(app) as session:
        account, _ = _invited(app, session)
        secret = new_totp_secret()
        totp = pyotp.TOTP(secret)
        now = utcnow()
        with pytest.raises(StaffError):
            enrol_totp(session, account, secret, "000000" if totp.at(now) != "000000"
                       else "111111", now=now)
        codes = enrol_totp(session, account, secret, totp.at(now), now=now)
        assert len(codes) == 10 and len(set(codes)) == 10
        # the enrolment code cannot be replayed, the next step's code is accepted once
        assert not verify_second_factor(session, account, totp.at(now), now=now, **LOCK)
        nxt = now + timedelta(seconds=30)
        assert verify_second_factor(session, account, totp.at(nxt), now=nxt, **LOCK)
        assert not verify_second_factor(session, account, totp.at(nxt), now=nxt, **LOCK)
        assert verify_second_factor(session, account, codes[0].upper(), now=nxt, **LOCK)
        assert not verify_second_factor(session, account, codes[0], now=nxt, **LOCK)
        assert account.recovery_codes and len(account.recovery_codes) == 9


def test_logout_everywhere_ends_every_session(app: Flask) -> None:
    with _session(app) as session:
        account, _ = _invited(app, session)
        epoch = account.session_epoch
        assert load_staff(session, account.id, epoch) is account
        end_all_sessions(session, account)
        assert load_staff(session, account.id, epoch) is None
        assert load_staff(session, account.id, epoch + 1) is account
        account.disabled_at = utcnow()
        session.commit()
        assert load_staff(session, account.id, epoch + 1) is None


def test_roles_are_per_establishment_and_health_is_the_infirmerie_alone(app: Flask) -> None:
    with _session(app) as session:
        mine = ensure_establishment(session, uai="0690001A", name="Collège A")
        other = ensure_establishment(session, uai="0690002B", name="Collège B")
        nurse, _ = _invited(app, session, "infirmerie@clg.fr")
        head, _ = _invited(app, session, "direction@clg.fr")
        admin = create_staff(session, email="admin@academie.fr", display_name="Admin",
                             is_admin=True)
        grant_role(session, nurse, mine, StaffRole.INFIRMERIE)
        grant_role(session, head, mine, StaffRole.DIRECTION)
        session.commit()
        assert can(nurse, Permission.READ_HEALTH, mine.id)
        assert not can(nurse, Permission.READ_DOSSIERS, mine.id)
        assert not can(nurse, Permission.READ_HEALTH, other.id)
        assert not can(head, Permission.READ_HEALTH, mine.id)
        assert can(head, Permission.MANAGE_STAFF, mine.id)
        assert permissions_in(head, other.id) == frozenset()
        assert can(admin, Permission.MANAGE_STAFF, other.id)
        assert not can(admin, Permission.READ_HEALTH, other.id)
        grant_role(session, head, mine, StaffRole.READ_ONLY)
        session.commit()
        assert not can(head, Permission.MANAGE_STAFF, mine.id)
        assert len(head.memberships) == 1
