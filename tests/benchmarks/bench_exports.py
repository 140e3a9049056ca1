"""The exports, measured against bare writers of the same output in the same run.

1. The XLSX table of every dossier (``dossiersco export table dossiers``) of ``--dossiers``
   validated dossiers, against openpyxl's write-only mode writing the same cells (computed
   beforehand; the two files are checked cell by cell): what any XLSX export has to pay.
   Goal: ≤ 1.5×, memory flat (the peak of Python allocations, tracemalloc, for a fifth of
   the dossiers and for all of them).
2. The SIECLE return of the same dossiers (tree, blockers, zipped file), against lxml
   building the same elements from plain data and zipping them.
3. The documents ZIP of ``--zip-mb`` megabytes of files on disk (4 MB each, stored as PDFs
   are), against ``zipfile`` copying the same files under the same names; with peak memory.

Run as a script (not collected by pytest):
``.venv/bin/python tests/benchmarks/bench_exports.py [--dossiers 10000] [--zip-mb 200]``.
Timings are medians of ``--repeat`` interleaved runs, in CPU time of this process unless
``--clock wall``; memory is measured in separate runs (tracemalloc slows what it watches).
Also timed: the page of blocked pupils (the SIECLE return without its file). Figures in
docs/performance.md.
"""

from __future__ import annotations

import argparse
import copy
import os
import secrets
import shutil
import statistics
import sys
import tempfile
import time
import tracemalloc
import zipfile
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/

from lxml import etree  # noqa: E402
from openpyxl import Workbook  # noqa: E402
from openpyxl.cell import WriteOnlyCell  # noqa: E402

from engine.app import create_app  # noqa: E402
from engine.config import Settings  # noqa: E402
from engine.db import utcnow  # noqa: E402
from engine.dossiers.campaigns import context_of, effective_answers  # noqa: E402
from engine.dossiers.models import Establishment, StoredFile  # noqa: E402
from engine.dossiers.services import add_pupil, create_dossier, ensure_establishment  # noqa: E402
from engine.dossiers.states import DossierState  # noqa: E402
from engine.dossiers.versions import register_version  # noqa: E402
from engine.exports.documents_zip import document_entries, write_documents_zip  # noqa: E402
from engine.exports.dossier_tables import TableKind, tables_of  # noqa: E402
from engine.exports.selection import Selection  # noqa: E402
from engine.exports.siecle import siecle_return, write_siecle_zip  # noqa: E402
from engine.exports.tables import Format, local_time, safe_cell, write_tables  # noqa: E402
from engine.rules import evaluate_dossier  # noqa: E402
from engine.web.state import app_state  # noqa: E402

from exports.kit import PREFILL, TILLEULS  # noqa: E402

SLUG = "reinscription-2026"
UAI = "0750001A"
FILE_MB = 4


def _prefill(n: int) -> dict[str, Any]:
    prefill = copy.deepcopy(PREFILL)
    prefill["pupil"].update(first_name=f"Élève{n}", division=f"5{'ABCD'[n % 4]}",
                            ine=f"{n:09d}AB")
    for k, guardian in enumerate(prefill["guardians"], start=1):
        guardian["personne_id"] = f"{n}{k}"
    return prefill


def populate(app: Any, count: int) -> None:
    """``count`` validated dossiers of the Tilleuls campaign, destination MEF and division
    set, one phone changed in every fourth."""
    state = app_state(app)
    with state.database.sessions() as session:
        school = ensure_establishment(session, uai=UAI, name="Collège Les Tilleuls")
        version = register_version(session, school, slug=SLUG, title="Réinscription",
                                   source=TILLEULS.read_text(encoding="utf-8"))
        session.commit()
        campaign = state.campaigns.campaign_of(version)
        now = utcnow()
        money: dict[str, Any] | None = None
        for n in range(count):
            pupil = add_pupil(session, school, first_name=f"Élève{n}", last_name="MARTIN",
                              eleve_id=secrets.token_hex(4))
            dossier = create_dossier(session, pupil, version, prefill=_prefill(n))
            if money is None:
                ctx = context_of(dossier)
                money = evaluate_dossier(campaign, effective_answers(campaign, {}, ctx),
                                         ctx).money()
            dossier.answers = {"telephone_eleve": "0781223344"} if n % 4 == 0 else {}
            dossier.corrections = {"mef_destination": "10310019110",
                                   "division_destination": "4B"}
            dossier.state = DossierState.VALIDATED
            dossier.submitted_at = dossier.validated_at = now
            dossier.computed = dict(money)
            if n % 1000 == 999:
                session.commit()
        session.commit()


def add_files(app: Any, megabytes: int) -> list[tuple[str, Path]]:
    """``megabytes`` of 4 MB files on disk, two per dossier from the first; their archive
    names and paths (for the floor)."""
    state = app_state(app)
    count = max(1, megabytes // FILE_MB)
    chunk = os.urandom(FILE_MB << 20)
    with state.database.sessions() as session:
        establishment = session.query(Establishment).filter_by(uai=UAI).one()
        selection = Selection(session, establishment, SLUG, state.campaigns.campaign_of)
        ids = selection.ids
        for n in range(count):
            data = chunk[n % 1000:] + chunk[:n % 1000]  # not twice the same file
            session.add(StoredFile(dossier_id=ids[n // 2], document_id="justificatif_domicile",
                                   storage_key=state.storage.put(data), filename=f"f{n}.pdf",
                                   sha256="0" * 64, size=len(data),
                                   mime_type="application/pdf"))
        session.commit()
        root = state.settings.upload_dir
        return [(e.name, next(root.rglob(e.file.storage_key)))
                for e in document_entries(Selection(session, establishment, SLUG,
                                                    state.campaigns.campaign_of))]


def _selection(app: Any, session: Any, only: frozenset[str] | None = None) -> Selection:
    establishment = session.query(Establishment).filter_by(uai=UAI).one()
    return Selection(session, establishment, SLUG, app_state(app).campaigns.campaign_of,
                     only=only)


# -- the floors -------------------------------------------------------------------------------

def xlsx_floor(rows: list[list[Any]], out: IO[bytes]) -> None:
    """openpyxl write-only, the same cells, nothing else: the values computed beforehand,
    the date columns known beforehand and given their display format (as the engine's
    file has them: the same file)."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet("Dossiers")
    dated = sorted({n for row in rows for n, v in enumerate(row) if isinstance(v, date)})
    for row in rows:
        if dated:
            row = list(row)
            for n in dated:
                if isinstance(row[n], date):
                    row[n] = cell = WriteOnlyCell(sheet, row[n])
                    cell.number_format = "DD/MM/YYYY HH:MM" if isinstance(
                        cell.value, datetime) else "DD/MM/YYYY"
        sheet.append(row)
    book.save(out)


def siecle_floor(tree: tuple[str, dict[str, str], str | None, list[Any]], name: str,
                 out: IO[bytes]) -> None:
    """lxml building the same elements from plain data, serialised and zipped."""

    def build(parent: Any, node: tuple[str, dict[str, str], str | None, list[Any]]) -> None:
        tag, attrib, text, children = node
        element = etree.SubElement(parent, tag, attrib)
        element.text = text
        for child in children:
            build(element, child)

    tag, attrib, text, children = tree
    root = etree.Element(tag, attrib)
    for child in children:
        build(root, child)
    xml = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(name, xml)


def _plain(element: Any) -> tuple[str, dict[str, str], str | None, list[Any]]:
    text = element.text if element.text and element.text.strip() else None
    return (element.tag, dict(element.attrib), text, [_plain(c) for c in element])


def _plain_cell(value: Any) -> Any:
    """A cell as openpyxl takes it (what the engine's writer converts, done beforehand)."""
    if isinstance(value, str):
        return safe_cell(value)
    if isinstance(value, datetime):
        return local_time(value)
    return float(value) if isinstance(value, Decimal) else value


def same_cells(engine: IO[bytes], floor: IO[bytes]) -> None:
    """The two files hold the same cells: value, type and number format, one by one."""
    from openpyxl import load_workbook

    def cells(out: IO[bytes]) -> Any:
        out.seek(0)
        sheet = load_workbook(out, read_only=True).worksheets[0]
        for row in sheet.iter_rows():
            yield [(c.value, c.data_type, c.number_format) for c in row]

    for n, (mine, bare) in enumerate(zip(cells(engine), cells(floor), strict=True)):
        assert mine == bare, (n, mine, bare)


def zip_floor(files: list[tuple[str, Path]], out: IO[bytes]) -> None:
    with zipfile.ZipFile(out, "w", allowZip64=True) as archive:
        for name, path in files:
            with path.open("rb") as source, archive.open(
                    zipfile.ZipInfo(name), "w", force_zip64=True) as target:
                shutil.copyfileobj(source, target, 1 << 20)


# -- measuring --------------------------------------------------------------------------------

#: ``--clock``: CPU time of this process (the default: what waiting for a core on a shared
#: machine does not inflate; the writers, SQLite and lxml all run in it) or the wall clock
CLOCKS: dict[str, Callable[[], float]] = {"cpu": time.process_time, "wall": time.perf_counter}
CLOCK = CLOCKS["cpu"]


def interleaved(runs: dict[str, Callable[[], Any]], repeat: int) -> dict[str, float]:
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(repeat):
        for name, run in runs.items():
            start = CLOCK()
            run()
            times[name].append(CLOCK() - start)
    return {name: statistics.median(t) for name, t in times.items()}


def peak(run: Callable[[], Any]) -> float:
    """Peak Python allocations during ``run``, in MB."""
    tracemalloc.start()
    try:
        run()
        return tracemalloc.get_traced_memory()[1] / 1e6
    finally:
        tracemalloc.stop()


def _scratch() -> IO[bytes]:
    return tempfile.TemporaryFile()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dossiers", type=int, default=2000)
    parser.add_argument("--zip-mb", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip", nargs="*", default=[], choices=["xlsx", "siecle", "zip"])
    parser.add_argument("--clock", choices=sorted(CLOCKS), default="cpu")
    args = parser.parse_args()
    global CLOCK
    CLOCK = CLOCKS[args.clock]
    print(f"clock: {args.clock}, load average {os.getloadavg()[0]:.1f} on "
          f"{os.cpu_count()} cores")
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(instance_dir=Path(tmp), database_url=f"sqlite:///{tmp}/b.sqlite3",
                            secret_key="bench", upload_dir=Path(tmp) / "u",
                            mail_url=(Path(tmp) / "mail").as_uri(), secure_cookies=False)
        app = create_app(settings)
        start = time.perf_counter()
        populate(app, args.dossiers)
        print(f"{args.dossiers} dossiers in {time.perf_counter() - start:.1f} s")
        database = app_state(app).database

        def xlsx(only: frozenset[str] | None = None) -> None:
            with database.sessions() as session, _scratch() as out:
                write_tables(tables_of(TableKind.DOSSIERS, _selection(app, session, only)),
                             Format.XLSX, out)

        if "xlsx" not in args.skip:
            with database.sessions() as session:
                (table,) = tables_of(TableKind.DOSSIERS, _selection(app, session))
                rows = [[safe_cell(h) for h in table.header],
                        *([_plain_cell(v) for v in row] for row in table.rows)]
                fifth = frozenset(_selection(app, session).ids[:args.dossiers // 5])
                fifth_ids = frozenset(
                    d.public_id for d in _selection(app, session).dossiers()
                    if d.id in fifth)
            cells = sum(len(r) for r in rows)
            with database.sessions() as session, _scratch() as mine, _scratch() as bare:
                write_tables(tables_of(TableKind.DOSSIERS, _selection(app, session)),
                             Format.XLSX, mine)
                xlsx_floor(rows, bare)
                same_cells(mine, bare)
            times = interleaved({"engine": xlsx, "floor": lambda: xlsx_floor(rows, _scratch())},
                                args.repeat)
            print(f"XLSX, {args.dossiers} dossiers, {cells} cells: engine "
                  f"{times['engine']:.2f} s, openpyxl floor {times['floor']:.2f} s, "
                  f"ratio {times['engine'] / times['floor']:.2f}×")
            print(f"  engine peak memory: {peak(lambda: xlsx(fifth_ids)):.1f} MB for "
                  f"{len(fifth_ids)} dossiers, {peak(xlsx):.1f} MB for {args.dossiers}")

        if "siecle" not in args.skip:
            def siecle() -> None:
                with database.sessions() as session, _scratch() as out:
                    result = siecle_return(_selection(app, session),
                                           generated_at=datetime.now(UTC))
                    write_siecle_zip(result, out)

            with database.sessions() as session:
                result = siecle_return(_selection(app, session), generated_at=datetime.now(UTC))
            assert len(result.included) == args.dossiers, result.blocked[:1]
            tree = _plain(etree.fromstring(result.xml))
            times = interleaved({"engine": siecle, "floor": lambda: siecle_floor(
                tree, result.filename, _scratch())}, args.repeat)
            print(f"SIECLE, {args.dossiers} pupils: engine {times['engine']:.2f} s, lxml "
                  f"floor {times['floor']:.2f} s, ratio "
                  f"{times['engine'] / times['floor']:.2f}×")
            print(f"  engine peak memory: {peak(siecle):.1f} MB")

            def page() -> None:  # the page of blocked pupils: every pupil's blockers, no file
                with database.sessions() as session:
                    siecle_return(_selection(app, session), generated_at=datetime.now(UTC))

            start = CLOCK()
            page()
            print(f"  blocked-pupils page (the return without its file), {args.dossiers} "
                  f"pupils: {CLOCK() - start:.2f} s")

        if "zip" not in args.skip:
            start = time.perf_counter()
            files = add_files(app, args.zip_mb)
            total = sum(p.stat().st_size for _, p in files) / 1e6
            print(f"{len(files)} files, {total:.0f} MB on disk in "
                  f"{time.perf_counter() - start:.1f} s")
            storage = app_state(app).storage

            def documents() -> None:
                with database.sessions() as session, tempfile.TemporaryFile(dir=tmp) as out:
                    write_documents_zip(_selection(app, session), storage, out)

            def floor() -> None:
                with tempfile.TemporaryFile(dir=tmp) as out:
                    zip_floor(files, out)

            times = interleaved({"engine": documents, "floor": floor}, args.repeat)
            print(f"ZIP, {total:.0f} MB: engine {times['engine']:.2f} s, zipfile floor "
                  f"{times['floor']:.2f} s, ratio {times['engine'] / times['floor']:.2f}×")
            print(f"  peak memory: engine {peak(documents):.1f} MB, floor {peak(floor):.1f} MB")
        database.dispose()


if __name__ == "__main__":
    main()
