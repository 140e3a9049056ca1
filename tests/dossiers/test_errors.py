"""One root for the errors the engine raises on purpose: a caller (web, CLI, job) catches
``EngineError`` and reads a code, never an HTTP status."""

from __future__ import annotations

import pytest

from engine.config import ConfigError
from engine.diagnostics import CampaignError, EngineError, UploadCode
from engine.dossiers.documents import DocumentError
from engine.dossiers.services import DossierError
from engine.dossiers.states import InvalidTransition
from engine.exports.memberships import UnknownCampaignError
from engine.exports.recap import FontMissingError
from engine.expr.parser import ExprSyntaxError
from engine.mail import MailError
from engine.prefill import ImportFileError
from engine.storage import InvalidKeyError
from engine.storage.inspection import UploadRejected


@pytest.mark.parametrize("error", [
    CampaignError, ConfigError, DocumentError, DossierError, ExprSyntaxError, FontMissingError,
    ImportFileError, InvalidKeyError, InvalidTransition, MailError, UnknownCampaignError,
    UploadRejected])
def test_domain_errors_derive_from_engine_error(error: type[Exception]) -> None:
    assert issubclass(error, EngineError)


def test_a_document_error_carries_a_code_not_a_status() -> None:
    error = DocumentError("Document inconnu.", UploadCode.UNKNOWN)
    assert error.code == "unknown" and not hasattr(error, "status")
