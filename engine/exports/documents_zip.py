"""The families' documents in one ZIP, ``division/NOM Prénom/document.ext``.

Written entry by entry to any binary stream (seekable or not: a response, a file), each stored
file copied from the storage in chunks, so memory stays flat whatever the total size.
"""

from __future__ import annotations

import mimetypes
import re
import shutil
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import IO, Final

from engine.campaign.model import slot_parts
from engine.dossiers.documents import slot_label
from engine.dossiers.models import StoredFile
from engine.storage.base import Storage

from .dossier_tables import prepared
from .selection import Selection
from .tables import Progress

CHUNK: Final = 1 << 20
#: formats already compressed: stored as they are
COMPRESSED: Final = frozenset({"application/pdf", "image/jpeg", "image/png", "image/heic",
                               "image/heif", "image/webp"})
NO_DIVISION: Final = "Sans classe"


@dataclass(frozen=True, slots=True)
class Entry:
    name: str
    file: StoredFile


def clean_name(text: str) -> str:
    """A path component every system accepts: no separators, control or reserved characters."""
    text = re.sub(r'[\x00-\x1f\x7f/\\:*?"<>|]+', " ", text)
    return re.sub(r"\s+", " ", text).strip(" .")[:100] or "sans nom"


def _extension(stored: StoredFile) -> str:
    suffix = PurePosixPath(stored.filename).suffix.lower()
    if re.fullmatch(r"\.[a-z0-9]{1,5}", suffix):
        return suffix
    return mimetypes.guess_extension(stored.mime_type) or ""


def document_entries(selection: Selection, *, document_id: str | None = None,
                     accepted_only: bool = False) -> Iterator[Entry]:
    """The files of the selection's dossiers (one document type, accepted ones only when
    asked), named for the archive; a second pupil of the same name in a division gets a
    number, as does a second file of the same document. The files of one row of a per-row
    document are named with the row (« Justificatif d'identité — Claire MARTIN »);
    ``document_id`` takes every row's."""
    folders: set[str] = set()
    for p in prepared(selection):
        pupil = p.dossier.pupil
        base = f"{clean_name(p.division or NO_DIVISION)}/" \
               f"{clean_name(f'{pupil.last_name.upper()} {pupil.first_name}')}"
        folder, n = base, 1
        while folder.casefold() in folders:
            n += 1
            folder = f"{base} ({n})"
        folders.add(folder.casefold())
        names: set[str] = set()
        files = sorted(p.dossier.files, key=lambda f: (f.document_id, f.created_at, f.id))
        for stored in files:
            if (document_id is not None and slot_parts(stored.document_id)[0] != document_id) or \
                    (accepted_only and stored.review_status != "accepted"):
                continue
            stem = clean_name(slot_label(selection.campaign, stored.document_id,
                                         p.dossier.answers))
            name, k = stem, 1
            while name.casefold() in names:
                k += 1
                name = f"{stem} ({k})"
            names.add(name.casefold())
            yield Entry(f"{folder}/{name}{_extension(stored)}", stored)


def write_documents_zip(selection: Selection, storage: Storage, stream: IO[bytes], *,
                        document_id: str | None = None, accepted_only: bool = False,
                        progress: Progress | None = None) -> int:
    """Write the archive to ``stream``; the number of files in it. A file missing from the
    storage is left out (listed in ``MANQUANTS.txt`` at the archive's root)."""
    entries = list(document_entries(selection, document_id=document_id,
                                    accepted_only=accepted_only))
    missing = []
    written = 0
    with zipfile.ZipFile(stream, "w", allowZip64=True) as archive:
        for done, entry in enumerate(entries, start=1):
            info = zipfile.ZipInfo(entry.name, entry.file.created_at.timetuple()[:6])
            info.compress_type = zipfile.ZIP_STORED if entry.file.mime_type in COMPRESSED \
                else zipfile.ZIP_DEFLATED
            info.file_size = entry.file.size
            try:
                source = storage.open(entry.file.storage_key)
            except FileNotFoundError:
                missing.append(entry.name)
            else:
                with source, archive.open(info, "w", force_zip64=entry.file.size > 1 << 30) \
                        as target:
                    shutil.copyfileobj(source, target, CHUNK)
                written += 1
            if progress is not None:
                progress(done, len(entries))
        if missing:
            archive.writestr("MANQUANTS.txt", "Fichiers introuvables dans le stockage :\n"
                             + "\n".join(missing) + "\n")
    return written
