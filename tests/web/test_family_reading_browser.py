"""What parents read, seen in headless Chromium at phone width (issue 10, items 10-15).

Uses the routed Chromium of ``test_wizard_browser`` (the family's Flask test client answers
every request).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask.testing import FlaskClient
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
