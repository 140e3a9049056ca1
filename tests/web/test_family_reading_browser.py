"""What parents read, seen in headless Chromium at phone width (issue 10, items 10-15).

Uses the routed Chromium of ``test_wizard_browser`` (the family's Flask test client answers
every request).
"""

from __future__ import annotations

import io
from collections.abc import Callable

import pytest
from flask.testing import FlaskClient
from PIL import Image
from playwright.sync_api import Page

from engine.dossiers.models import Dossier

from . import test_wizard_browser as routed

pytestmark = pytest.mark.browser

family = routed.family
in_browser = routed.in_browser
Scenario = routed.Scenario


def test_association_description_sits_under_its_label(
        in_browser: Callable[[Scenario], None], family: tuple[FlaskClient, Dossier]) -> None:
    _, dossier = family

    def scenario(page: Page) -> None:
        routed._open(page, dossier, "associations")
        for choice in page.locator(".field-memberships .choice").all():
            description = choice.locator(".hint")
            if not description.count():
                continue
            label = choice.locator("label").bounding_box()
            text = description.bounding_box()
            assert label is not None and text is not None
            assert text["y"] >= label["y"] + label["height"] - 1, "description beside the label"
            assert abs(text["x"] - label["x"]) < 2
            assert label["height"] < 60, "label squeezed over several lines"

    in_browser(scenario)


def _noise_png(width: int, height: int) -> bytes:
    """A photo-like image that compresses badly: a phone picture sent as PNG."""
    image = Image.merge("RGB", [Image.effect_noise((width, height), 60 + 10 * i) for i in range(3)])
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def test_uploads_are_checked_and_photos_shrunk_before_sending(
        in_browser: Callable[[Scenario], None], family: tuple[FlaskClient, Dossier],
        ) -> None:
    _, dossier = family
    photo = _noise_png(2600, 2000)
    assert len(photo) > 5 * 1024 * 1024

    def scenario(page: Page) -> None:
        routed._open(page, dossier, "pieces")
        posts: list[str] = []
        page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
        block = page.locator("#document-attestation_assurance")
        form = block.locator("form.document__upload")
        form.locator('input[name="fichier"]').first.set_input_files(
            files=[{"name": "gros.pdf", "mimeType": "application/pdf",
                    "buffer": b"%PDF-1.7\n" + b"0" * (6 * 1024 * 1024)}])
        form.get_by_role("button", name="Envoyer").click()
        error = page.locator("#document-attestation_assurance-error")
        assert "Le fichier dépasse la taille maximale de 5 Mo." in error.inner_text()
        assert posts == []
        form.locator('input[name="fichier"]').first.set_input_files(
            files=[{"name": "virus.exe", "mimeType": "application/x-msdownload",
                    "buffer": b"MZ" + b"0" * 100}])
        form.get_by_role("button", name="Envoyer").click()
        assert "Ce type de fichier n'est pas accepté." in error.inner_text()
        assert posts == []
        form.locator('input[name="fichier"]').first.set_input_files(
            files=[{"name": "photo.png", "mimeType": "image/png", "buffer": photo}])
        # what the form would send (the routed test client cannot read a multipart body
        # Chromium keeps to itself): the photo redrawn as a JPEG under the limit
        page.evaluate("""() => { HTMLFormElement.prototype.submit = function () {
            window.sent = Array.from(this.querySelectorAll('input[type=file]')).flatMap(
                i => Array.from(i.files).map(f => [f.name, f.type, f.size])); }; }""")
        form.get_by_role("button", name="Envoyer").click()
        page.wait_for_function("() => window.sent !== undefined")
        ((name, kind, size),) = page.evaluate("window.sent")
        assert (name, kind) == ("photo.jpg", "image/jpeg") and size < 5 * 1024 * 1024
        assert error.inner_text()  # the earlier message stays until the page changes

    in_browser(scenario)


def test_fee_effect_sits_by_the_fields_that_change_it(
        in_browser: Callable[[Scenario], None], family: tuple[FlaskClient, Dossier]) -> None:
    _, dossier = family

    def scenario(page: Page) -> None:
        routed._open(page, dossier, "restauration")
        page.get_by_label("Demi-pensionnaire 4 jours", exact=False).check()
        quotient = page.get_by_label("Quotient familial CAF")
        quotient.fill("450")
        assert "Total des frais : 216,00 €." in routed._live(page)
        effect = page.locator("[data-fee-effect]")
        assert "216,00 €" in effect.inner_text().replace("\u00a0", " ")
        field = quotient.bounding_box()
        shown = effect.bounding_box()
        nav = page.locator("[data-wizard-nav]").bounding_box()
        assert field is not None and shown is not None and nav is not None
        assert 0 < shown["y"] - field["y"] < 400, (field, shown)
        assert shown["y"] < nav["y"]
        # the unit is read with the field and sits on its line
        unit = page.locator("#f-quotient_familial-unit")
        assert "f-quotient_familial-unit" in (quotient.get_attribute("aria-describedby") or "")
        box = unit.bounding_box()
        assert box is not None and abs(box["y"] - field["y"]) < field["height"]

    in_browser(scenario)
