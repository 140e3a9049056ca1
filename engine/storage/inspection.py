"""Checks of uploaded files by content: type sniffing, full parse or decode, re-encoding.

Nothing here trusts the file name or the client's MIME type. Images are decoded completely
and re-encoded (which drops EXIF, GPS and any trailing payload); HEIC photos become JPEG.
PDFs are parsed with pypdf and refused when encrypted or carrying active content: scripts,
actions that run by themselves or reach outside the file, forms that send data, XFA, embedded
files, multimedia.
"""

from __future__ import annotations

import hashlib
import io
import re
import unicodedata
import warnings
from collections.abc import Iterable, Set
from dataclasses import dataclass
from functools import cache
from pathlib import PurePosixPath
from typing import Any, Final

import filetype
import pi_heif
from PIL import Image, ImageDraw, ImageOps
from pypdf import PdfReader
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject

from engine.diagnostics import EngineError, UploadCode

pi_heif.register_heif_opener()

#: kinds a campaign may accept, from the detected MIME type
KINDS: Final = {"application/pdf": "pdf", "image/jpeg": "jpeg", "image/png": "png",
                "image/heic": "heic", "image/heif": "heic"}
LABELS: Final = {"pdf": "PDF", "jpeg": "JPEG", "png": "PNG", "heic": "HEIC"}
#: stored kind, MIME type and extension (HEIC is stored as JPEG)
STORED: Final = {"pdf": ("pdf", "application/pdf", ".pdf"),
                 "jpeg": ("jpeg", "image/jpeg", ".jpg"),
                 "png": ("png", "image/png", ".png"),
                 "heic": ("jpeg", "image/jpeg", ".jpg")}
PIL_FORMATS: Final = {"jpeg": "JPEG", "png": "PNG", "heic": "HEIF"}
#: a 48 Mpx phone photo passes; a pixel bomb is refused before decoding
DEFAULT_MAX_PIXELS: Final = 60_000_000
DEFAULT_MAX_PAGES: Final = 100
THUMBNAIL_SIZE: Final = 320
#: PDF keys that hold active content wherever they appear: scripts (also the names tree's
#: /JavaScript), additional actions run on events (/AA), XFA forms (scripted), embedded files
#: (/EmbeddedFiles in the names tree, /EF in a file specification), rich media
_PDF_DANGEROUS_KEYS: Final = frozenset({"/JavaScript", "/JS", "/Launch", "/AA", "/XFA",
                                        "/EmbeddedFile", "/EmbeddedFiles", "/EF",
                                        "/RichMediaContent"})
#: the only actions a family's PDF may hold: a jump inside the file, a viewer command (next
#: page…), and an http(s)/mailto link that the reader clicks (never an /OpenAction)
_PDF_SAFE_ACTIONS: Final = frozenset({"/GoTo", "/Named", "/URI"})
_PDF_SAFE_URI: Final = re.compile(r"(?i)(https?://|mailto:)[^\\]*")
#: keys whose value is an action dictionary (or, for /Next, an array of them)
_PDF_ACTION_KEYS: Final = frozenset({"/A", "/OpenAction", "/Next", "/PA"})
#: annotations that play or carry content (sound, movies, 3D, attached files)
_PDF_DANGEROUS_ANNOTS: Final = frozenset({"/FileAttachment", "/Sound", "/Movie", "/Screen",
                                          "/RichMedia", "/3D"})
#: most PDF objects walked while looking for scripts (a hostile file could hold millions)
_PDF_MAX_OBJECTS: Final = 200_000
_RESERVED_NAMES: Final = frozenset(
    {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)),
     *(f"LPT{i}" for i in range(1, 10))})
_FORBIDDEN_CHARS: Final = re.compile(r'[<>:"/\\|?*\s]+')


ACTIVE_CONTENT_MESSAGE: Final = (
    "Ce PDF contient du code ou du contenu actif (script, action automatique, formulaire à "
    "envoyer, fichier joint ou lien vers un autre fichier) et est refusé. Enregistrez-le à "
    "nouveau avec « Imprimer » puis « Enregistrer au format PDF », ou envoyez une photo du "
    "document.")


class UploadRejected(EngineError):
    """An upload refused with a stable ``code`` and a French message for the family."""

    def __init__(self, code: UploadCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class CheckedFile:
    """An accepted upload, ready to store: ``data`` is what gets stored (re-encoded images)."""

    data: bytes
    #: stored kind: "pdf", "jpeg" or "png"
    kind: str
    #: kind detected in the upload ("heic" for a photo stored as JPEG)
    detected_kind: str
    mime_type: str
    filename: str
    size: int
    sha256: str
    pages: int | None = None
    width: int | None = None
    height: int | None = None


def megabytes(size: int) -> str:
    """``size`` in Mo as the family reads it: three significant digits, decimal comma."""
    return f"{size / (1024 * 1024):.3g}".replace(".", ",")


def accepted_label(accept: Iterable[str]) -> str:
    return ", ".join(LABELS[kind] for kind in sorted(accept))


def sanitize_filename(filename: str, extension: str | None = None) -> str:
    """A display name safe everywhere: no path, no control or bidi characters, accents kept.

    ``extension`` (e.g. ``".pdf"``) replaces whatever the name claimed, so the name matches
    the content.
    """
    name = unicodedata.normalize("NFC", filename).replace("\\", "/").rsplit("/", 1)[-1]
    # Cc/Cf/Cs/Co/Cn: controls, bidi overrides, zero-width, surrogates, unassigned
    name = "".join(ch for ch in name if not unicodedata.category(ch).startswith("C"))
    name = _FORBIDDEN_CHARS.sub("_", name).strip("._ ")
    path = PurePosixPath(name or "document")
    stem, suffix = path.stem.strip("._ ") or "document", extension or path.suffix
    if stem.upper() in _RESERVED_NAMES:
        stem = f"_{stem}"
    return f"{stem[:100]}{suffix[:10]}"


def inspect_upload(data: bytes, filename: str, *, accept: Set[str], max_size: int,
                   max_pixels: int = DEFAULT_MAX_PIXELS,
                   max_pages: int = DEFAULT_MAX_PAGES) -> CheckedFile:
    """Check ``data`` against the campaign's ``accept`` kinds and ``max_size``.

    :raises UploadRejected: empty, too large, type not accepted, corrupt, encrypted PDF, PDF
        with scripts, image too large in pixels.
    """
    if not data:
        raise UploadRejected(UploadCode.EMPTY, "Le fichier est vide.")
    if len(data) > max_size:
        raise UploadRejected(UploadCode.TOO_LARGE, f"Le fichier dépasse la taille maximale de "
                                          f"{megabytes(max_size)} Mo.")
    guess = filetype.guess(data)
    kind = KINDS.get(guess.mime) if guess is not None else None
    if kind is None or kind not in accept:
        raise UploadRejected(UploadCode.TYPE, "Ce type de fichier n'est pas accepté. Formats acceptés : "
                                     f"{accepted_label(accept)}.")
    stored_kind, mime, extension = STORED[kind]
    pages = width = height = None
    if kind == "pdf":
        pages = _check_pdf(data, max_pages)
        out = data
    else:
        out, width, height = _reencode(data, kind, max_pixels)
    return CheckedFile(data=out, kind=stored_kind, detected_kind=kind, mime_type=mime,
                       filename=sanitize_filename(filename, extension), size=len(out),
                       sha256=hashlib.sha256(out).hexdigest(), pages=pages, width=width,
                       height=height)


def _check_pdf(data: bytes, max_pages: int) -> int:
    corrupt = UploadRejected(UploadCode.CORRUPT, "Ce PDF est illisible ou endommagé.")
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            raise UploadRejected(UploadCode.ENCRYPTED, "Ce PDF est protégé par un mot de passe. "
                                              "Envoyez une version sans protection.")
        pages = len(reader.pages)
        if _has_active_content(reader):
            raise UploadRejected(UploadCode.ACTIVE_CONTENT, ACTIVE_CONTENT_MESSAGE)
    except UploadRejected:
        raise
    except Exception:  # a hostile file can make the parser fail in many ways: all mean "corrupt"
        raise corrupt from None
    if pages == 0:
        raise corrupt
    if pages > max_pages:
        raise UploadRejected(UploadCode.TOO_MANY_PAGES,
                             f"Ce PDF compte {pages} pages ; le maximum est {max_pages}.")
    return pages


def _has_active_content(reader: PdfReader) -> bool:
    """Walk every object reachable from the trailer looking for active content (see
    ``_PDF_DANGEROUS_KEYS``, ``_PDF_SAFE_ACTIONS``); the document's /OpenAction, which runs
    by itself, may only be a destination or a /GoTo."""
    # each object with the key it was found under: /S names an action only in an action
    # dictionary (elsewhere it is a border style, a transparency group, a mask…)
    stack: list[tuple[Any, str]] = [(reader.trailer, "")]
    seen: set[tuple[int, int]] = set()
    walked = 0
    while stack:
        obj, via = stack.pop()
        if isinstance(obj, IndirectObject):
            ref = (obj.idnum, obj.generation)
            if ref in seen:
                continue
            seen.add(ref)
            obj = obj.get_object()
        walked += 1
        if walked > _PDF_MAX_OBJECTS:
            return True
        if isinstance(obj, DictionaryObject):
            if _is_active(obj, via):
                return True
            # what follows an /OpenAction (/Next) runs by itself too
            stack.extend((value, via if key == "/Next" and via == "/OpenAction" else key)
                         for key, value in obj.items() if key != "/Parent")
        elif isinstance(obj, ArrayObject):
            stack.extend((value, via) for value in obj)
    return False


def _is_active(obj: DictionaryObject, via: str) -> bool:
    if _PDF_DANGEROUS_KEYS.intersection(obj.keys()):
        return True
    if obj.get("/Type") == "/EmbeddedFile" or obj.get("/Subtype") in _PDF_DANGEROUS_ANNOTS:
        return True
    action = str(obj.get("/S", ""))
    if not action or via not in _PDF_ACTION_KEYS and obj.get("/Type") != "/Action":
        return False
    if via == "/OpenAction":
        return action != "/GoTo"
    if action not in _PDF_SAFE_ACTIONS:
        return True
    uri = obj.get("/URI")
    return action == "/URI" and not (isinstance(uri, str) and _PDF_SAFE_URI.fullmatch(uri))


def _reencode(data: bytes, kind: str, max_pixels: int) -> tuple[bytes, int, int]:
    corrupt = UploadRejected(UploadCode.CORRUPT, "Cette image est illisible ou endommagée.")
    try:
        with warnings.catch_warnings():
            # Pillow only warns between MAX_IMAGE_PIXELS and twice that: refuse those too
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=[PIL_FORMATS[kind]]) as image:
                if image.width * image.height > max_pixels:
                    raise UploadRejected(UploadCode.TOO_MANY_PIXELS, "Cette image est trop grande "
                                         "(en pixels). Réduisez sa résolution.")
                image.load()
                upright = ImageOps.exif_transpose(image)
    except UploadRejected:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise UploadRejected(UploadCode.TOO_MANY_PIXELS, "Cette image est trop grande (en pixels). "
                                                "Réduisez sa résolution.") from None
    except Exception:  # truncated or corrupt data raises OSError, SyntaxError, ValueError…
        raise corrupt from None
    out = io.BytesIO()
    # saving without exif= writes no EXIF (GPS, camera, date); the colour profile is kept
    icc = upright.info.get("icc_profile")
    if STORED[kind][0] == "png":
        upright.save(out, "PNG", optimize=False, icc_profile=icc)
    else:
        if upright.mode not in {"RGB", "L"}:
            upright = upright.convert("RGB")
        upright.save(out, "JPEG", quality=88, icc_profile=icc)
    return out.getvalue(), upright.width, upright.height


def make_thumbnail(checked: CheckedFile) -> bytes:
    """A preview at most 320 px wide and high: JPEG for photos, PNG otherwise.

    PDFs get a generic document icon (no PDF renderer is shipped).
    """
    if checked.kind == "pdf":
        return _pdf_icon()
    with Image.open(io.BytesIO(checked.data)) as image:
        image.thumbnail((THUMBNAIL_SIZE, THUMBNAIL_SIZE))
        out = io.BytesIO()
        if checked.kind == "jpeg":
            image.convert("RGB").save(out, "JPEG", quality=80)
        else:
            image.save(out, "PNG")
    return out.getvalue()


@cache
def _pdf_icon() -> bytes:
    image = Image.new("RGB", (160, 200), "white")
    draw = ImageDraw.Draw(image)
    draw.polygon([(20, 10), (110, 10), (140, 40), (140, 190), (20, 190)],
                 outline="#3a3a3a", fill="#f6f6f6", width=4)
    draw.line([(110, 10), (110, 40), (140, 40)], fill="#3a3a3a", width=4)
    draw.rectangle([(35, 120), (125, 160)], fill="#b3261e")
    draw.text((58, 132), "PDF", fill="white", font_size=20)
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()
