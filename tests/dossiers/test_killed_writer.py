"""A worker killed in the middle of a save leaves the old dossier or the new one, never half.

A real process opens the database, starts a save and is killed with SIGKILL at a chosen
moment (after its UPDATE and INSERT reached the database, before COMMIT; or just after
COMMIT); the test then reads the dossier from another connection.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.dossiers.models import Dossier, DossierEvent
from engine.dossiers.services import save_answers
from engine.dossiers.states import Actor, DossierState
from engine.web.state import app_state

WRITER = textwrap.dedent("""
    import os, signal, sys
    from sqlalchemy import event, select
    from engine.db import Database
    from engine.dossiers.models import Dossier
    from engine.dossiers.services import save_answers
    from engine.dossiers.states import Actor

    url, public_id, moment = sys.argv[1:4]
    session = Database.connect(url).sessions()
    dossier = session.scalar(select(Dossier).where(Dossier.public_id == public_id))

    @event.listens_for(session, moment)
    def die(*_args):
        os.kill(os.getpid(), signal.SIGKILL)

    save_answers(session, dossier, dossier.row_version, {"regime": "externe"},
                 "restauration", Actor.family(1))
    print("not killed")
""")


def _write_and_die(url: str, public_id: str, moment: str) -> None:
    done = subprocess.run([sys.executable, "-c", WRITER, url, public_id, moment],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == -signal.SIGKILL, done.stdout + done.stderr


def _saved_events(session: Session, dossier_id: int) -> int:
    return session.scalar(select(func.count()).select_from(DossierEvent).where(
        DossierEvent.dossier_id == dossier_id, DossierEvent.kind == "answers_saved")) or 0


@pytest.mark.parametrize("moment", ["after_flush", "after_commit"])
def test_killed_writer_leaves_old_or_new_state(app: Flask, db_session: Session,
                                               make_dossier, moment: str) -> None:
    dossier = make_dossier(answers={"regime": "demi_pensionnaire_4j"})
    version = dossier.row_version
    url = app_state(app).settings.database_url

    _write_and_die(url, dossier.public_id, moment)

    db_session.expire_all()
    seen = db_session.get(Dossier, dossier.id)
    assert seen is not None
    if moment == "after_flush":  # killed before COMMIT: nothing of the save is there
        assert seen.answers == {"regime": "demi_pensionnaire_4j"}
        assert seen.row_version == version
        assert seen.state is DossierState.NOT_STARTED
        assert _saved_events(db_session, dossier.id) == 0
    else:  # killed after COMMIT: all of it is there
        assert seen.answers == {"regime": "externe"}
        assert seen.row_version == version + 1
        assert seen.state is DossierState.IN_PROGRESS
        assert _saved_events(db_session, dossier.id) == 1
    # the dead writer left no lock behind: the next save goes through
    save_answers(db_session, seen, seen.row_version, {"regime": "interne"}, "restauration",
                 Actor.family(1))
    assert seen.answers["regime"] == "interne"
