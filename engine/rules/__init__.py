"""Campaign rules at run time: evaluation of a dossier, fees, documents, campaign tests."""

from __future__ import annotations

from .evaluation import (
    Evaluation,
    Membership,
    RequiredDocument,
    VisibleFields,
    evaluate_dossier,
)
from .explain import describe, used_by
from .fees import Fee, compute_fee
from .scope import DossierContext, DossierScope, prefill_value

__all__ = [
    "DossierContext", "DossierScope", "Evaluation", "Fee", "Membership", "RequiredDocument",
    "VisibleFields", "compute_fee", "describe", "evaluate_dossier", "prefill_value", "used_by",
]
