"""``python killed_worker.py MARKER``: ``dossiersco worker`` whose dossier table stops after
a few rows (the marker file says so) and waits there to be killed, so that a test kills a real
worker in the middle of an export, its scratch file half written."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from pathlib import Path

from engine.cli import main
from engine.exports import dossier_tables
from engine.exports.dossier_tables import Prepared
from engine.exports.selection import Selection

MARKER = Path(sys.argv[1])
ROWS_BEFORE_HANGING = 3
_prepared = dossier_tables.prepared


def _hanging(selection: Selection) -> Iterator[Prepared]:
    for n, p in enumerate(_prepared(selection)):
        if n == ROWS_BEFORE_HANGING:
            MARKER.write_text("mid-export")
            time.sleep(600)
        yield p


dossier_tables.prepared = _hanging
main(["worker", "--workers", "1"])
