"""Upload checks by content with real generated files (U-01, U-06, XU-01…XU-17)."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import pytest
from fpdf import FPDF
from PIL import Image
from pypdf import PdfReader, PdfWriter
from pypdf.generic import ArrayObject, DictionaryObject, NameObject, TextStringObject

from engine.storage.inspection import (
    CheckedFile,
    UploadRejected,
    inspect_upload,
    make_thumbnail,
    sanitize_filename,
)

ALL = {"pdf", "jpeg", "png", "heic"}
MB = 1024 * 1024


def _image(fmt: str, size: tuple[int, int] = (64, 48), **save: object) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, fmt, **save)
    return out.getvalue()


def _pdf(pages: int = 1) -> bytes:
    pdf = FPDF()
    for number in range(pages):
        pdf.add_page()
        pdf.set_font("helvetica", size=12)
        pdf.cell(text=f"Attestation d'assurance, page {number + 1}")
    return bytes(pdf.output())


def _write(writer: PdfWriter) -> bytes:
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _encrypted(data: bytes) -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
    writer.encrypt("motdepasse")
    return _write(writer)


def _with_open_action(data: bytes, action: dict[str, object]) -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
    writer._root_object[NameObject("/OpenAction")] = DictionaryObject(
        {NameObject(k): v for k, v in action.items()})  # type: ignore[misc]
    return _write(writer)


def _reject(data: bytes, code: str, accept: set[str] = ALL, max_size: int = 10 * MB,
            **kwargs: int) -> UploadRejected:
    with pytest.raises(UploadRejected) as caught:
        inspect_upload(data, "fichier.pdf", accept=accept, max_size=max_size, **kwargs)
    assert caught.value.code == code
    assert caught.value.message  # a French sentence for the family
    return caught.value


def test_pdf_is_accepted_with_its_page_count() -> None:
    checked = inspect_upload(_pdf(3), "Attestation élève.PDF", accept=ALL, max_size=MB)
    assert (checked.kind, checked.mime_type, checked.pages) == ("pdf", "application/pdf", 3)
    assert checked.filename == "Attestation_élève.pdf"
    assert len(checked.sha256) == 64


def test_jpeg_and_png_are_reencoded() -> None:
    for fmt, kind in [("JPEG", "jpeg"), ("PNG", "png")]:
        checked = inspect_upload(_image(fmt), "photo", accept=ALL, max_size=MB)
        assert checked.kind == kind
        assert (checked.width, checked.height) == (64, 48)
        with Image.open(io.BytesIO(checked.data)) as image:
            assert image.format == fmt


def test_gps_exif_is_stripped() -> None:
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x8825] = {1: "N", 2: (48.0, 51.0, 24.0)}  # GPSInfo
    data = _image("JPEG", exif=exif.tobytes())
    with Image.open(io.BytesIO(data)) as original:
        assert original.getexif()
    checked = inspect_upload(data, "photo.jpg", accept=ALL, max_size=MB)
    with Image.open(io.BytesIO(checked.data)) as image:
        assert not image.getexif()
    assert b"PhoneMaker" not in checked.data


def test_type_comes_from_content_not_name() -> None:
    checked = inspect_upload(_image("PNG"), "cni.pdf", accept=ALL, max_size=MB)
    assert checked.kind == "png"
    assert checked.filename == "cni.png"
    _reject(_image("PNG"), "type", accept={"pdf"})


def test_executable_renamed_pdf_is_refused() -> None:
    exe = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 200
    _reject(exe, "type")


def test_html_named_jpg_is_refused() -> None:
    _reject(b"<html><script>alert(1)</script></html>", "type")


def test_empty_file_is_refused() -> None:
    _reject(b"", "empty")


def test_too_big_file_is_refused() -> None:
    error = _reject(_pdf(), "too_large", max_size=100)
    assert "Mo" in error.message


def test_encrypted_pdf_is_refused() -> None:
    _reject(_encrypted(_pdf()), "encrypted")


def test_pdf_with_javascript_is_refused() -> None:
    action = {"/S": NameObject("/JavaScript"), "/JS": TextStringObject("app.alert('x');")}
    _reject(_with_open_action(_pdf(), action), "active_content")


def test_pdf_with_launch_action_is_refused() -> None:
    action = {"/S": NameObject("/Launch"), "/F": TextStringObject("cmd.exe")}
    _reject(_with_open_action(_pdf(), action), "active_content")


def test_pdf_opening_at_a_page_is_accepted() -> None:
    reader = PdfReader(io.BytesIO(_pdf()))
    page = reader.pages[0].indirect_reference
    action = {"/S": NameObject("/GoTo"), "/D": ArrayObject([page, NameObject("/Fit")])}
    checked = inspect_upload(_with_open_action(_pdf(), action), "a.pdf", accept=ALL,
                             max_size=MB)
    assert checked.pages == 1


def test_pdf_with_too_many_pages_is_refused() -> None:
    _reject(_pdf(4), "too_many_pages", max_pages=3)


def test_truncated_pdf_is_refused() -> None:
    _reject(_pdf()[:200], "corrupt")


def test_truncated_jpeg_is_refused() -> None:
    data = _image("JPEG", size=(400, 300), quality=95)
    _reject(data[: len(data) // 2], "corrupt")


def _png_with_size(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims ``width`` × ``height`` pixels (a pixel bomb)."""
    data = bytearray(_image("PNG", size=(1, 1)))
    header = b"IHDR" + struct.pack(">II", width, height) + bytes(data[24:29])
    data[12:29] = header
    data[29:33] = struct.pack(">I", zlib.crc32(header))
    return bytes(data)


def test_decompression_bomb_png_is_refused_before_decoding() -> None:
    _reject(_png_with_size(20_000, 20_000), "too_many_pixels")


def test_pixel_limit_is_configurable() -> None:
    _reject(_image("PNG", size=(20, 20)), "too_many_pixels", max_pixels=100)


def test_heic_is_detected_by_content() -> None:
    # pi-heif ships decoders only, so no real HEIC can be made here: a HEIC header over junk
    # must be detected as HEIC, then refused as unreadable
    fake = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 64
    _reject(fake, "corrupt")
    _reject(fake, "type", accept={"pdf"})


def test_real_heic_is_converted_to_jpeg() -> None:
    # a 64×48 photo encoded by libheif's heif-enc (Debian libheif-examples): pi-heif ships
    # decoders only, so the sample is a file rather than made here
    sample = (Path(__file__).parent / "samples" / "photo-64x48.heic").read_bytes()
    checked = inspect_upload(sample, "IMG_0001.HEIC", accept=ALL, max_size=MB)
    assert (checked.kind, checked.detected_kind, checked.filename) == ("jpeg", "heic",
                                                                       "IMG_0001.jpg")
    with Image.open(io.BytesIO(checked.data)) as photo:
        assert photo.format == "JPEG" and photo.size == (64, 48)
        red, green, blue = photo.convert("RGB").getpixel((32, 24))
        assert red > 150 and green < 90 and blue < 90


@pytest.mark.parametrize(("name", "expected"), [
    ("../../../etc/passwd", "passwd.pdf"),
    ("..\\..\\win.ini", "win.pdf"),
    ("CON.pdf", "_CON.pdf"),
    ("\u202efdp.exe", "fdp.pdf"),
    ("photo.php.jpg", "photo.php.pdf"),
    ("", "document.pdf"),
    ("...", "document.pdf"),
    ("Relevé de notes <2025>.pdf", "Relevé_de_notes_2025.pdf"),
    ("e\u0301le\u0300ve.pdf", "élève.pdf"),
])
def test_filenames_are_sanitised(name: str, expected: str) -> None:
    assert sanitize_filename(name, ".pdf") == expected


def test_long_filename_is_cut() -> None:
    assert len(sanitize_filename("a" * 1000 + ".pdf")) <= 110


def test_thumbnails_fit_in_320_pixels() -> None:
    photo = inspect_upload(_image("JPEG", size=(1200, 900)), "p.jpg", accept=ALL, max_size=MB)
    with Image.open(io.BytesIO(make_thumbnail(photo))) as thumb:
        assert max(thumb.size) == 320
        assert thumb.format == "JPEG"
    document: CheckedFile = inspect_upload(_pdf(), "a.pdf", accept=ALL, max_size=MB)
    with Image.open(io.BytesIO(make_thumbnail(document))) as icon:
        assert icon.format == "PNG"
        assert max(icon.size) <= 320
