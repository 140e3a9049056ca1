"""The computed field type."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from campaign.helpers import compile_fields

C = compile_fields("""\
    - id: jours
      type: integer
    - id: total
      type: computed
      expr: jours * 4.5
      format: money
    - id: fin
      type: computed
      expr: date('2027-12-31')
      format: date
    - id: majeur
      type: computed
      expr: jours > 17
      format: boolean
    """)
TOTAL, FIN, MAJEUR = C.fields["total"], C.fields["fin"], C.fields["majeur"]


def test_expression_is_compiled() -> None:
    assert TOTAL.expressions["expr"].deps == frozenset({"jours"})
    assert TOTAL.type.has_value is False
    assert C.evaluation_order.index("jours") < C.evaluation_order.index("total")


def test_normalize_is_json_safe() -> None:
    assert TOTAL.type.normalize(Decimal("13.5"), TOTAL) == "13.5"
    assert FIN.type.normalize(date(2027, 12, 31), FIN) == "2027-12-31"
    assert MAJEUR.type.normalize(True, MAJEUR) is True
    assert TOTAL.type.normalize(None, TOTAL) is None


def test_display_export_expr_value() -> None:
    assert TOTAL.type.display("13.5", TOTAL) == "13,50\u00a0€"
    assert TOTAL.type.export("13.5", TOTAL) == {"": 13.5}
    assert TOTAL.type.expr_value("13.5", TOTAL) == Decimal("13.5")
    assert FIN.type.display("2027-12-31", FIN) == "31/12/2027"
    assert FIN.type.expr_value("2027-12-31", FIN) == date(2027, 12, 31)
    assert MAJEUR.type.display(True, MAJEUR) == "Oui"
    assert MAJEUR.type.export(False, MAJEUR) == {"": "Non"}


def test_format_must_match_the_expression() -> None:
    from campaign.helpers import campaign_text, check_yaml

    _, diagnostics = check_yaml(campaign_text(
        "- id: x\n  type: computed\n  expr: \"'texte'\"\n  format: number\n"))
    assert [d.code.name for d in diagnostics] == ["EXPR_005"]
