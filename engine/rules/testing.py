"""Run the ``tests:`` cases written inside a campaign file."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from difflib import get_close_matches
from typing import Any

from engine.campaign.model import Campaign, CampaignTest, unindexed
from engine.fields import FieldValueError
from engine.fields.repeat import ROW_KEY

from .evaluation import Evaluation, evaluate_dossier
from .policy import effective_answers, on_hide_writes
from .scope import DossierContext

#: the evaluation date of tests that do not give one: fixed, so results never drift
DEFAULT_TODAY = date(2027, 6, 1)

#: the text of the review page for an evaluation and the answers it shows (the dossiers part
#: words it: ``engine.dossiers.summary.review_text``); tests checking ``review`` need one
Reviewer = Callable[[Campaign, Evaluation, Mapping[str, Any]], str]


@dataclass(slots=True)
class TestOutcome:
    test: CampaignTest
    failures: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.failures


def run_test(campaign: Campaign, test: CampaignTest, review: Reviewer | None = None,
             ) -> TestOutcome:
    # a test's answers are one guardian's (the first), per-guardian fields included
    ctx = DossierContext(prefill=test.prefill, family=test.family or {"siblings": 1, "rank": 1},
                         today=test.today or DEFAULT_TODAY, guardian="1")
    answers = effective_answers(campaign, test.answers, ctx) if test.from_prefill \
        else dict(test.answers)
    result = evaluate_dossier(campaign, answers, ctx)
    outcome = TestOutcome(test)
    _compare(test.expect, result, outcome.failures)
    expect = test.expect
    if "values" in expect or "review" in expect:
        # what a save keeps: the on_hide policy applied, as the wizard does
        cleared = on_hide_writes(campaign, answers, result)
        if cleared:
            answers = {**answers, **cleared}
            result = evaluate_dossier(campaign, answers, ctx)
        _compare_values(campaign, expect.get("values") or {}, answers, outcome.failures)
        if "review" in expect:
            _compare_review(campaign, expect["review"], result, answers, review,
                            outcome.failures)
    return outcome


def _asked_names(result: Evaluation) -> set[str]:
    """The names a test gives the documents asked: a document's id, and for a per-row
    document ``<id>.<row number from 0>`` too (its id alone: asked for some row)."""
    names = {d.spec_id for d in result.documents}
    if result.scope is None:
        return names
    for doc in result.scope.campaign.documents:
        if doc.for_each is not None:
            keys = [str(row.get(ROW_KEY)) for row in result.scope.rows_of(
                result.scope.campaign.fields[doc.for_each])]
            names |= {f"{doc.id}.{keys.index(d.row_key)}" for d in result.documents
                      if d.spec_id == doc.id and d.row_key in keys}
    return names


def run_tests(campaign: Campaign, review: Reviewer | None = None) -> list[TestOutcome]:
    return [run_test(campaign, t, review) for t in campaign.tests]


def _stored_at(answers: Mapping[str, Any], key: str) -> Any:
    """The stored value at ``key``: a field id, or ``repeat.<n>.child`` (rows from 0)."""
    head, _, rest = key.partition(".")
    value = answers.get(head)
    if not rest:
        return value
    index, _, child = rest.partition(".")
    rows = value if isinstance(value, list) else []
    if not index.isdigit() or int(index) >= len(rows) or not isinstance(rows[int(index)],
                                                                        Mapping):
        return None
    return rows[int(index)].get(child)


def _compare_values(campaign: Campaign, wanted: Mapping[str, Any], answers: Mapping[str, Any],
                    failures: list[str]) -> None:
    for key, value in wanted.items():
        spec = campaign.fields.get(unindexed(key))
        if spec is None:
            continue  # reported when the campaign was compiled (TEST_001)
        got = _stored_at(answers, key)
        try:
            same = spec.type.same(got, value, spec)
        except FieldValueError:
            same = got == value
        if not same:
            failures.append(f"expected '{key}' to be kept as {value!r}, it is {got!r}")


def _compare_review(campaign: Campaign, texts: Iterable[str], result: Evaluation,
                    answers: Mapping[str, Any], review: Reviewer | None,
                    failures: list[str]) -> None:
    if review is None:
        failures.append("this test checks the review page: run it with dossiersco test")
        return
    page = _spaced(review(campaign, result, answers))
    lines = page.splitlines()
    for text in texts:
        if _spaced(text) not in page:
            close = get_close_matches(_spaced(text), lines, n=1, cutoff=0)
            failures.append(f"expected the review page to show '{text}'; its closest line is "
                            f"'{close[0] if close else ''}'")


def _names(items: Iterable[str]) -> str:
    return ", ".join(sorted(items)) or "none"


def _compare(expect: Mapping[str, Any], result: Evaluation, failures: list[str]) -> None:
    for key in expect.get("visible", ()):
        if key not in result.visible:
            failures.append(f"expected '{key}' to be visible, it is hidden")
    for key in expect.get("hidden", ()):
        if key in result.visible:
            failures.append(f"expected '{key}' to be hidden, it is visible")
    for key in expect.get("required", ()):
        if key not in result.required:
            failures.append(f"expected '{key}' to be required, it is not")
    for key in expect.get("optional", ()):
        if key in result.required:
            failures.append(f"expected '{key}' to be optional, it is required")
    locked = result.readonly | {unindexed(k) for k in result.readonly}
    for key in expect.get("readonly", ()):
        if key not in locked:
            failures.append(f"expected '{key}' to be read-only, the family can change it")
    for key in expect.get("editable", ()):
        if key in locked:
            failures.append(f"expected '{key}' to be editable, it is read-only")
    for key in expect.get("visible_pages", ()):
        if key not in result.visible_pages:
            failures.append(f"expected page '{key}' to be shown, it is not")
    for key in expect.get("hidden_pages", ()):
        if key in result.visible_pages:
            failures.append(f"expected page '{key}' to be skipped, it is shown")
    if "valid" in expect and expect["valid"] != result.valid:
        state = "valid" if result.valid else "invalid: " + "; ".join(
            f"{k}: {' '.join(v)}" for k, v in sorted(result.errors.items()))
        failures.append(f"expected the dossier to be {'valid' if expect['valid'] else 'invalid'}"
                        f", it is {state}")
    for key, wanted in (expect.get("errors") or {}).items():
        got: list[str] = [m for k, msgs in result.errors.items()
                          if k == key or k.startswith(key + ".") or unindexed(k) == key
                          for m in msgs]
        if wanted is False and got:
            failures.append(f"expected no error on '{key}', got: {' '.join(got)}")
        elif wanted is True and not got:
            failures.append(f"expected an error on '{key}', got none")
        elif isinstance(wanted, str) and not any(_spaced(wanted) in _spaced(m) for m in got):
            failures.append(f"expected an error on '{key}' containing '{wanted}', got: "
                            f"{' '.join(got) or 'none'}")
    fees = {f.tariff_id: f for f in result.fees}
    for key, wanted in (expect.get("fees") or {}).items():
        fee = fees.get(key)
        if wanted is None:
            if fee is not None:
                failures.append(f"expected no fee '{key}', got {fee.amount}")
        elif fee is None:
            failures.append(f"expected fee '{key}' = {wanted}, the tariff does not apply")
        elif fee.amount != Decimal(wanted):
            failures.append(f"expected fee '{key}' = {wanted}, got {fee.amount} "
                            f"({fee.explanation})")
    if "total" in expect and result.total != Decimal(expect["total"]):
        failures.append(f"expected total {expect['total']}, got {result.total}")
    for key, wanted in (expect.get("explanations") or {}).items():
        fee = fees.get(key)
        if fee is None or _spaced(wanted) not in _spaced(fee.explanation):
            failures.append(f"expected the explanation of '{key}' to contain '{wanted}', got "
                            f"'{fee.explanation if fee else 'no fee'}'")
    docs = _asked_names(result)
    for key in expect.get("documents", ()):
        if key not in docs:
            failures.append(f"expected document '{key}' to be asked; asked: {_names(docs)}")
    for key in expect.get("no_documents", ()):
        if key in docs:
            failures.append(f"expected document '{key}' not to be asked")
    for key, wanted in (expect.get("computed") or {}).items():
        value = result.computed.get(key)
        if not _same(value, wanted):
            failures.append(f"expected computed '{key}' = {wanted!r}, got {value!r}")


def _spaced(text: str) -> str:
    """Text with no-break spaces (French money and thousands: 12,50 €, 1 200) as plain spaces,
    so expectations can be typed with an ordinary space."""
    return text.replace("\u00a0", " ").replace("\u202f", " ")


def _same(got: Any, wanted: Any) -> bool:
    if isinstance(wanted, bool) or wanted is None:
        return bool(got == wanted)
    if isinstance(wanted, int | float) or isinstance(got, str) and _is_number(got):
        try:
            return Decimal(str(got)) == Decimal(str(wanted))
        except ArithmeticError:
            return False
    return str(got) == str(wanted)


def _is_number(text: str) -> bool:
    try:
        Decimal(text)
    except ArithmeticError:
        return False
    return True
