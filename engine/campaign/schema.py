"""Stage 2 of the campaign pipeline: the JSON Schema, generated from the field registry, and
the check of a source against it, reported as located diagnostics."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError

from engine.diagnostics import Code, Diagnostic, Location, did_you_mean, pointer_from
from engine.fields import FieldRegistry
from engine.fields.file import ACCEPT_SCHEMA, SIZE_SCHEMA

from .model import DEFAULT_RETENTION_DAYS
from .source import Source

SCHEMA_ID = "urn:dossiersco:campaign:1"
ID_PATTERN = r"^[a-z][a-z0-9_]*$"
AMOUNT_PATTERN = r"^\d+(\.\d{1,2})?$"
#: a percentage from 0 to 100, at most 2 decimals
PERCENT_PATTERN = r"^(100(\.0{1,2})?|\d{1,2}(\.\d{1,2})?)$"

#: the ``scope`` of a field (or page) each legal guardian answers for themselves
PER_GUARDIAN = "per_guardian"
#: the ``required`` of a per-guardian field every guardian with a login must answer
ALL_GUARDIANS = "all_guardians"

COMMON_FIELD_PROPERTIES: dict[str, Any] = {
    "id": {"type": "string", "pattern": ID_PATTERN,
           "description": "Identifier, unique in its scope: lower case, digits, underscores."},
    "type": {"type": "string", "description": "Field type from the registry."},
    "label": {"$ref": "#/$defs/text"},
    "help": {"$ref": "#/$defs/text"},
    "required": {"anyOf": [{"type": "boolean"}, {"const": ALL_GUARDIANS},
                           {"$ref": "#/$defs/expression"}],
                 "description": "true, false, a condition, or all_guardians (a per_guardian "
                 "field every guardian with a login must answer)."},
    "scope": {"enum": [PER_GUARDIAN], "description": "per_guardian: each legal guardian "
              "answers for themselves, under their own login."},
    "visible_if": {"$ref": "#/$defs/expression"},
    "readonly_if": {"$ref": "#/$defs/expression"},
    "prefill": {"type": "string", "pattern": r"^[a-z_][a-z0-9_]*(\.[a-z0-9_]+)*$",
                "description": "Path in the imported record (pupil.birth_date), last year's "
                "dossier (previous.field) or, inside a repeat, the imported row."},
    "editable": {"type": "boolean", "default": True},
    "staff_only": {"type": "boolean", "default": False,
                   "description": "Filled in by the school only: never shown to families."},
    "restricted": {"enum": ["health"],
                   "description": "health: health data, encrypted and shown to the infirmerie "
                   "only (a repeat's mark covers its fields)."},
    "on_hide": {"enum": ["clear", "keep"], "default": "clear"},
    "validate": {"type": "array", "items": {
        "type": "object", "required": ["rule", "message"], "additionalProperties": False,
        "properties": {"rule": {"$ref": "#/$defs/expression"},
                       "message": {"$ref": "#/$defs/text"}}}},
}


def _object(properties: Mapping[str, Any], required: Iterable[str] = ()) -> dict[str, Any]:
    return {"type": "object", "additionalProperties": False, "required": list(required),
            "properties": dict(properties)}


def build_schema(registry: FieldRegistry) -> dict[str, Any]:
    """The campaign JSON Schema (draft 2020-12) for the types of ``registry``."""
    type_rules = []
    for ftype in sorted(registry, key=lambda t: t.name):
        then: dict[str, Any] = {"properties": dict(ftype.options_schema)}
        if ftype.required_options:
            then["required"] = list(ftype.required_options)
        type_rules.append({"if": {"properties": {"type": {"const": ftype.name}},
                                  "required": ["type"]},
                           "then": then})
    field_schema = {
        "type": "object",
        "required": ["id", "type"],
        "properties": {**COMMON_FIELD_PROPERTIES,
                       "type": {**COMMON_FIELD_PROPERTIES["type"], "enum": registry.names()}},
        "allOf": type_rules,
        "unevaluatedProperties": False,
    }
    amount = {"type": "string", "pattern": AMOUNT_PATTERN,
              "description": "Euros as quoted text, e.g. \"12.50\"."}
    number_or_expr = {"anyOf": [{"type": "integer"}, {"$ref": "#/$defs/expression"}]}
    tariff = _object({
        "id": {"type": "string", "pattern": ID_PATTERN}, "label": {"$ref": "#/$defs/text"},
        "help": {"$ref": "#/$defs/text"},
        "applies_if": {"$ref": "#/$defs/expression"},
        "amount": amount,
        "brackets": _object({
            "on": {"$ref": "#/$defs/expression"}, "label": {"$ref": "#/$defs/text"},
            "default": {"type": "string"},
            "table": {"type": "array", "minItems": 1, "items": _object(
                {"up_to": {"anyOf": [{"type": "integer"}, amount]}, "amount": amount,
                 "label": {"type": "string"}}, ["amount", "label"])},
        }, ["on", "table"]),
        "multipliers": {"type": "array", "items": _object(
            {"by": number_or_expr, "label": {"$ref": "#/$defs/text"}}, ["by", "label"])},
        "reductions": {"type": "array", "items": _object(
            {"id": {"type": "string", "pattern": ID_PATTERN}, "label": {"$ref": "#/$defs/text"},
             "when": {"$ref": "#/$defs/expression"},
             "percent": {"type": "string", "pattern": PERCENT_PATTERN,
                         "description": "A percentage from 0 to 100 as quoted text, e.g. \"20\"."},
             "amount": amount}, ["id", "label", "when"])},
        "exempt_if": {"$ref": "#/$defs/expression"},
        "exempt_label": {"$ref": "#/$defs/text"},
    }, ["id", "label"])
    association = _object({
        "id": {"type": "string", "pattern": ID_PATTERN}, "label": {"$ref": "#/$defs/text"},
        "description": {"$ref": "#/$defs/text"}, "fee": amount,
        "required": {"type": "boolean", "default": False},
        "available_if": {"$ref": "#/$defs/expression"},
        "prices": {"type": "array", "minItems": 1, "items": _object(
            {"when": {"$ref": "#/$defs/expression"}, "fee": amount}, ["when", "fee"]),
            "description": "Prices by condition: the first whose `when` holds replaces `fee`."},
        "fee_from": {"$ref": "#/$defs/expression", "description": "The amount the family "
                     "gives (a donation): usually the id of a number field with min and max."},
    }, ["id", "label"])
    document = _object({
        "id": {"type": "string", "pattern": ID_PATTERN}, "label": {"$ref": "#/$defs/text"},
        "help": {"$ref": "#/$defs/text"}, "reason": {"$ref": "#/$defs/text"},
        "required": {"type": "boolean", "default": True},
        "required_if": {"$ref": "#/$defs/expression"},
        "accept": ACCEPT_SCHEMA, "max_size": SIZE_SCHEMA,
        "max_files": {"type": "integer", "minimum": 1, "maximum": 10},
        "template": {"type": "string", "description": "File next to the campaign to download."},
        "max_age_months": {"type": "integer", "minimum": 1, "maximum": 60},
        "for_each": {"type": "string", "pattern": ID_PATTERN, "description":
                     "A repeat (e.g. responsables): the document is asked once per row, "
                     "required_if read in each row."},
        "row_label": {"type": "array", "items": {"type": "string", "pattern": ID_PATTERN},
                      "minItems": 1, "description": "Fields of the row naming it in the "
                      "label (e.g. [prenom, nom]); default: the repeat's item_label and the "
                      "row's number."},
    }, ["id", "label"])
    id_list = {"type": "array", "items": {"type": "string"}}
    test = _object({
        "name": {"type": "string"}, "today": {"type": "string", "format": "date"},
        "prefill": _object({"pupil": {"type": "object"},
                            "guardians": {"type": "array", "items": {"type": "object"}},
                            "previous": {"type": "object"}}),
        "family": _object({"siblings": {"type": "integer", "minimum": 1},
                           "rank": {"type": "integer", "minimum": 1}}),
        "answers": {"type": "object"},
        "from_prefill": {"type": "boolean", "default": False,
                         "description": "Start from what the school imported, as the family's "
                         "form does: prefilled fields hold the imported value unless answered."},
        "expect": _object({
            "visible": id_list, "hidden": id_list, "required": id_list, "optional": id_list,
            "valid": {"type": "boolean"},
            "errors": {"type": "object", "additionalProperties": {"type": ["string", "boolean"]}},
            "fees": {"type": "object", "additionalProperties": {"anyOf": [amount,
                                                                          {"type": "null"}]}},
            "total": amount,
            "explanations": {"type": "object", "additionalProperties": {"type": "string"}},
            "documents": id_list, "no_documents": id_list,
            "computed": {"type": "object"},
            "visible_pages": id_list, "hidden_pages": id_list,
            "readonly": id_list, "editable": id_list,
            "values": {"type": "object", "description": "The answers a save keeps, after "
                       "on_hide (null: cleared)."},
            "review": {"type": "array", "items": {"type": "string"}, "description":
                       "Texts the review page shows (a label, an answer as written there)."},
        }),
    }, ["name"])
    page = _object({
        "id": {"type": "string", "pattern": ID_PATTERN}, "title": {"$ref": "#/$defs/text"},
        "intro": {"$ref": "#/$defs/text"}, "visible_if": {"$ref": "#/$defs/expression"},
        "documents": {"type": "boolean", "default": False},
        "restricted": {"enum": ["health"],
                       "description": "health: every field of the page is health data."},
        "scope": {"enum": [PER_GUARDIAN], "description": "per_guardian: each legal guardian "
                  "answers every field of the page for themselves."},
        "fields": {"type": "array", "items": {"$ref": "#/$defs/field"}},
    }, ["id", "title"])
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "DossierSCO campaign",
        "description": "A re-enrolment campaign: pages of fields, tariffs, associations, "
                       "documents and tests. Generated by `dossiersco schema`.",
        "type": "object",
        "additionalProperties": False,
        "required": ["language", "id", "title", "establishment", "opens", "closes", "pages"],
        "properties": {
            "language": {"const": 1, "description": "Version of the campaign language."},
            "id": {"type": "string", "pattern": r"^[a-z0-9][a-z0-9-]*$",
                   "description": "Lower-case letters, digits and -, e.g. college-2027."},
            "title": {"$ref": "#/$defs/text"},
            "establishment": _object({
                "uai": {"type": "string", "pattern": r"^\d{7}[A-Z]$",
                        "description": "7 digits and a capital letter, in quotes: \"0691234A\"."},
                "name": {"type": "string"}, "email": {"type": "string", "format": "email"},
                "phone": {"type": "string"}, "address": {"type": "string"},
                "website": {"type": "string"},
                "controller": {"type": "string", "minLength": 1,
                               "description": "Who is responsible for the data (RGPD "
                               "controller), for the privacy notice; default: the head of "
                               "the establishment."},
                "dpo": _object({
                    "name": {"type": "string"}, "email": {"type": "string", "format": "email"},
                    "address": {"type": "string"}, "phone": {"type": "string"},
                }, []) | {"description": "The data protection officer (délégué à la protection "
                          "des données, usually the académie's), for the privacy notice."},
            }, ["uai", "name"]),
            "opens": {"type": "string", "format": "date"},
            "closes": {"type": "string", "format": "date"},
            "retention_days": {"type": "integer", "minimum": 0, "maximum": 3650,
                               "default": DEFAULT_RETENTION_DAYS,
                               "description": "Days after `closes` before the campaign's "
                               "dossiers, documents and family accounts are deleted "
                               "(`dossiersco purge`)."},
            "languages": {"type": "array", "minItems": 1, "uniqueItems": True,
                          "items": {"type": "string", "pattern": "^[a-z]{2}$",
                                    "description": "A 2-letter language code, e.g. fr, en."}},
            "welcome": {"$ref": "#/$defs/text"},
            "audience": {"$ref": "#/$defs/expression"},
            "previous_campaign": {"type": "string", "minLength": 1,
                                  "description": "Last year's campaign (a file next to this one, "
                                  "or its id), to check previous.* paths against."},
            "pages": {"type": "array", "minItems": 1, "items": page},
            "tariffs": {"type": "array", "items": tariff},
            "associations": {"type": "array", "items": association},
            "documents": {"type": "array", "items": document},
            "tests": {"type": "array", "items": test},
            "payment": _object({
                "instalments": {"type": "array", "minItems": 1, "maxItems": 12,
                                "items": {"$ref": "#/$defs/text"},
                                "description": "The label of each instalment (1er trimestre…): "
                                "the school's fees split equally, the rounding on the last."},
                "mode": {"type": "string", "pattern": ID_PATTERN, "description":
                         "Id of the choice field where the family says how it pays."},
            }, ["instalments"]),
        },
        "$defs": {
            "text": {"anyOf": [
                {"type": "string"},
                {"type": "object", "minProperties": 1,
                 "propertyNames": {"pattern": "^[a-z]{2}$"},
                 "additionalProperties": {"type": "string"}}],
                "description": "A French text, or a map of texts by language code."},
            "expression": {"type": "string", "minLength": 1,
                           "description": "An expression of the campaign language."},
            "field": field_schema,
        },
    }


def schema_json(registry: FieldRegistry) -> str:
    return json.dumps(build_schema(registry), ensure_ascii=False, indent=2, sort_keys=False) + "\n"


#: what the fields of the campaign-level check are: each field is then checked on its own
FIELD_PLACEHOLDER: dict[str, Any] = {"type": "object"}


@dataclass(frozen=True, slots=True)
class _Validators:
    """The checks of one registry: the campaign without its fields, then each field against
    the schema of its own type (a dispatch on ``type`` instead of one ``if/then`` per type
    evaluated on every field, which made the check ten times slower)."""

    campaign: Draft202012Validator
    by_type: Mapping[str, Draft202012Validator]
    untyped: Draft202012Validator
    #: option keys that hold nested fields (a repeat's ``fields``), per type
    nested: Mapping[str, tuple[str, ...]]


def _holds_fields(option: Any) -> bool:
    return isinstance(option, Mapping) and option.get("type") == "array" and \
        option.get("items") == {"$ref": "#/$defs/field"}


#: keywords that only describe: they can sit next to an inlined definition
ANNOTATIONS = frozenset({"description", "default", "title", "examples"})


def _inline(node: Any, defs: Mapping[str, Any]) -> Any:
    """``node`` with each ``$ref`` to a definition replaced by the definition itself.

    Resolving references is half the cost of a check; the ``$comment`` keeps the name of the
    definition for the messages of :func:`_translate`.
    """
    if isinstance(node, Mapping):
        ref = node.get("$ref")
        rest = {k: _inline(v, defs) for k, v in node.items() if k != "$ref"}
        if not (isinstance(ref, str) and ref.startswith("#/$defs/")):
            return rest
        target = {**_inline(defs[ref.removeprefix("#/$defs/")], defs), "$comment": ref}
        if set(rest) <= ANNOTATIONS:
            return {**target, **rest}
        return {**rest, "allOf": [*rest.get("allOf", []), target]}
    if isinstance(node, list):
        return [_inline(v, defs) for v in node]
    return node


def _validators(registry: FieldRegistry) -> _Validators:
    key = tuple((t.name, type(t)) for t in registry)
    cached = _VALIDATORS.get(key)
    if cached is None:
        cached = _VALIDATORS[key] = _build_validators(registry)
    return cached


_VALIDATORS: dict[tuple[tuple[str, type], ...], _Validators] = {}


def _build_validators(registry: FieldRegistry) -> _Validators:
    schema = build_schema(registry)
    defs = {**schema.pop("$defs"), "field": FIELD_PLACEHOLDER}
    checker = FormatChecker()
    by_type = {}
    nested = {}
    for ftype in registry:
        properties = {**COMMON_FIELD_PROPERTIES, "type": {"const": ftype.name},
                      **ftype.options_schema}
        by_type[ftype.name] = Draft202012Validator(_inline(
            _object(properties, ["id", "type", *ftype.required_options]), defs),
            format_checker=checker)
        nested[ftype.name] = tuple(k for k, v in ftype.options_schema.items()
                                   if _holds_fields(v))
    # an unknown type is the compiler's FIELD_001 (with a hint); its keys cannot be judged
    untyped = Draft202012Validator(_inline(
        {"type": "object", "required": ["id", "type"], "properties": COMMON_FIELD_PROPERTIES},
        defs), format_checker=checker)
    campaign = Draft202012Validator(_inline(schema, defs), format_checker=checker)
    return _Validators(campaign, by_type, untyped, nested)


def check_schema(source: Source, registry: FieldRegistry) -> list[Diagnostic]:
    """Every schema problem of ``source``, located, with unknown keys and types given hints."""
    validators = _validators(registry)
    out: list[Diagnostic] = []
    data = source.data
    if isinstance(data, Mapping) and "language" in data and data["language"] != 1:
        out.append(Diagnostic(Code.SCHEMA_005, Code.SCHEMA_005.format(value=data["language"]),
                              source.location("/language")))
        return out
    errors: list[tuple[list[str | int], ValidationError]] = [
        ([], e) for e in validators.campaign.iter_errors(data)]
    pages = data.get("pages") if isinstance(data, Mapping) else None
    for p, page in enumerate(pages if isinstance(pages, list) else []):
        fields = page.get("fields") if isinstance(page, Mapping) else None
        errors.extend(_field_errors(validators, fields, ["pages", p, "fields"]))
    for prefix, error in errors:
        path = [*prefix, *error.absolute_path]
        if pointer_from(path) in source.refused:
            continue  # already reported by the reader; the value stands as null
        out.extend(_translate(error, path, source))
    return out


def _field_errors(validators: _Validators, fields: Any, prefix: list[str | int],
                  ) -> Iterator[tuple[list[str | int], ValidationError]]:
    """Errors of each field of the list ``fields``, checked against its own type."""
    if not isinstance(fields, list):
        return
    for n, spec in enumerate(fields):
        if not isinstance(spec, Mapping):
            continue  # the campaign-level check reported it
        kind = spec.get("type")
        path = [*prefix, n]
        validator = validators.by_type.get(kind) if isinstance(kind, str) else None
        for error in (validator or validators.untyped).iter_errors(spec):
            yield path, error
        for key in validators.nested.get(kind, ()) if isinstance(kind, str) else ():
            yield from _field_errors(validators, spec.get(key), [*path, key])


def describe(path: Iterable[str | int], data: Any) -> str:
    """Readable place of a node: "field 'nom' (pages[0].fields[2])"."""
    parts: list[str] = []
    node = data
    name = ""
    for part in path:
        parts.append(f"[{part}]" if isinstance(part, int) else f".{part}" if parts else part)
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            node = None
        if isinstance(node, Mapping) and isinstance(node.get("id"), str):
            kind = {"pages": "page", "fields": "field", "tariffs": "tariff",
                    "associations": "association", "documents": "document",
                    "reductions": "reduction"}.get(str(list(path)[len(parts) - 2])
                                                   if len(parts) > 1 else "", "item")
            name = f"{kind} '{node['id']}'"
    where = "".join(parts) or "the campaign"
    return f"{name} ({where})" if name else where


_JSON_TYPES = {"string": "text", "integer": "a whole number", "number": "a number",
               "boolean": "true or false", "object": "keys (name: value)", "array": "a list",
               "null": "empty"}


def _json_type(value: Any) -> str:
    if value is None:
        return "empty"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int):
        return "a whole number"
    if isinstance(value, float):
        return "a decimal number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    return "keys (name: value)"


def _translate(error: ValidationError, path: list[str | int], source: Source,
               ) -> Iterable[Diagnostic]:
    pointer = pointer_from(path)
    where = describe(path, source.data)
    instance = error.instance
    kind = error.validator
    schema: Any = error.schema
    expected_value: Any = error.validator_value
    if kind == "additionalProperties" and isinstance(instance, Mapping):
        allowed = set(schema.get("properties") or {})
        for key in instance:
            if key not in allowed:
                child = pointer_from([*path, key])
                yield Diagnostic(Code.SCHEMA_001, Code.SCHEMA_001.format(key=key, where=where),
                                 source.location(child, key=True),
                                 hint=did_you_mean(str(key), allowed))
        return
    if kind == "required":
        for key in expected_value:
            if isinstance(instance, Mapping) and key not in instance:
                yield Diagnostic(Code.SCHEMA_003, Code.SCHEMA_003.format(key=key, where=where),
                                 source.location(pointer, key=True))
        return
    if kind == "type" and isinstance(schema, Mapping) and schema.get("pattern") in (
            AMOUNT_PATTERN, PERCENT_PATTERN):
        # an unquoted amount (12.5) is read as a number: say how to write it
        yield _amount_problem(schema["pattern"], where, instance, source.location(pointer))
        return
    if kind == "type":
        expected = expected_value
        names = [expected] if isinstance(expected, str) else list(expected)
        yield Diagnostic(Code.SCHEMA_002, Code.SCHEMA_002.format(
            where=where, expected=" or ".join(_JSON_TYPES.get(n, n) for n in names),
            actual=_json_type(instance)), source.location(pointer))
        return
    if kind == "anyOf":
        branches = [i for i, o in enumerate(expected_value)
                    if isinstance(o, Mapping) and o.get("type") == "object"]
        if isinstance(instance, Mapping) and len(branches) == 1:
            # keys where one form of the item has keys (a choice {value:, places:}): what
            # is wrong inside them, not "must be a text"
            for sub in error.context or ():
                if sub.relative_schema_path and sub.relative_schema_path[0] == branches[0]:
                    yield from _translate(sub, [*path, *sub.relative_path], source)
            return
        ref = json.dumps(schema)
        if "#/$defs/text" in ref and "boolean" not in ref:
            expected = "a text or a map of texts by language (fr: ..., en: ...)"
        elif "#/$defs/expression" in ref and "boolean" in ref:
            expected = "true, false or a condition"
        elif "#/$defs/expression" in ref:
            expected = "a number or an expression"
        else:
            yield Diagnostic(Code.SCHEMA_004, Code.SCHEMA_004.format(
                where=where, problem=_number_problem(schema, instance, path)),
                source.location(pointer))
            return
        yield Diagnostic(Code.SCHEMA_002, Code.SCHEMA_002.format(
            where=where, expected=expected, actual=_json_type(instance)), source.location(pointer))
        return
    if kind == "const" and path == ["language"]:
        yield Diagnostic(Code.SCHEMA_005, Code.SCHEMA_005.format(value=instance),
                         source.location(pointer))
        return
    problem = _limit_problem(str(kind), expected_value, instance) or error.message
    if kind == "pattern":
        described = schema.get("description") if isinstance(schema, Mapping) else None
        problem = f"'{instance}' does not have the expected form" + (
            f": {described[0].lower()}{described[1:].rstrip('.')}" if described else "")
        if expected_value in (AMOUNT_PATTERN, PERCENT_PATTERN):
            yield _amount_problem(expected_value, where, instance, source.location(pointer))
            return
        if expected_value == SIZE_SCHEMA["pattern"]:
            yield Diagnostic(Code.RULE_004, Code.RULE_004.format(where=where, value=instance),
                             source.location(pointer))
            return
        if expected_value == ID_PATTERN:
            problem = (f"'{instance}' is not a valid id (start with a lower-case letter; then "
                       "lower-case letters, digits and _)")
    elif kind == "format":
        problem = f"'{instance}' is not a valid {expected_value} (e.g. 2027-06-30)" \
            if expected_value == "date" else f"'{instance}' is not a valid " \
            f"{expected_value}"
    elif kind == "enum":
        problem = f"'{instance}' is not one of {', '.join(map(str, expected_value))}"
        hint = did_you_mean(str(instance), [str(v) for v in expected_value])
        yield Diagnostic(Code.SCHEMA_004, Code.SCHEMA_004.format(where=where, problem=problem),
                         source.location(pointer), hint=hint)
        return
    problem = re.sub(r"\s+", " ", problem)
    yield Diagnostic(Code.SCHEMA_004, Code.SCHEMA_004.format(where=where, problem=problem),
                     source.location(pointer))


def _as_number(value: Any) -> Decimal | None:
    """The number an author meant: ``"2,05"``, ``"10 %"``, ``"12 €"``, ``450.5``."""
    if isinstance(value, bool) or value is None:
        return None
    text = str(value).strip().rstrip("%€").strip().replace("\u00a0", "").replace(" ", "")
    try:
        number = Decimal(text.replace(",", "."))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _quoted(number: Decimal) -> str:
    """``"12.50"`` for 12.5, ``"10"`` for 10: how the file writes an amount."""
    if number == number.to_integral_value():
        return f'"{number.quantize(Decimal(1))}"'
    return f'"{number.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)}"'


def _amount_problem(pattern: str, where: str, value: Any, location: Location) -> Diagnostic:
    """An amount or a percentage not written as the file wants it, with the value to write."""
    percent = pattern == PERCENT_PATTERN
    number = _as_number(value)
    example = '"20"' if percent else '"12.50"'
    if number is None:
        fix = f"write digits, a point for decimals, in quotes, e.g. {example}"
    elif number < 0:
        fix = f"it cannot be negative; write e.g. {example}"
    elif percent and number > 100:
        fix = "a reduction takes at most 100 %; for a fixed sum, use amount: instead"
    elif -number.as_tuple().exponent > 2:  # type: ignore[operator]
        fix = f"write at most 2 decimals, in quotes: {_quoted(number)}"
    elif not isinstance(value, str):
        fix = f"write it in quotes: {_quoted(number)}"
    else:
        fix = f"write {_quoted(number)}" + (" (the number alone, in quotes)" if percent else
                                            " (digits, a point for decimals, in quotes)")
    code = Code.RULE_008 if percent else Code.RULE_003
    return Diagnostic(code, code.format(where=where, value=value, fix=fix), location)


def _form(option: Mapping[str, Any]) -> str:
    if option.get("type") == "integer":
        return "a whole number (450)"
    if option.get("type") == "number":
        return "a number (0.5)"
    if option.get("pattern") == AMOUNT_PATTERN:
        return 'an amount in quotes ("450.50")'
    return 'a number in quotes ("0.5")'


def _number_problem(schema: Mapping[str, Any], value: Any, path: list[str | int]) -> str:
    """Which forms a number option accepts, and the one to write for ``value``."""
    options = [o for o in schema.get("anyOf", ()) if isinstance(o, Mapping)]
    forms = " or ".join(_form(o) for o in options) or "a number"
    key = path[-1] if path and isinstance(path[-1], str) else "it"
    number = _as_number(value)
    if number is None:
        return f"'{value}' is not a number; {key} accepts {forms}"
    if number < 0 and any(o.get("pattern") == AMOUNT_PATTERN for o in options):
        return f"'{value}' is negative; {key} accepts {forms}, never below 0"
    whole = number == number.to_integral_value()
    if any(o.get("type") == "number" for o in options):
        suggestion = str(number.normalize()) if not whole else str(int(number))
    elif whole:
        suggestion = str(int(number))
    else:
        suggestion = _quoted(number)
    return f"'{value}' is not one of the forms {key} accepts ({forms}): write {key}: {suggestion}"


def _limit_problem(kind: str, limit: Any, value: Any) -> str | None:
    """A size or bound problem in the author's words, with what to do."""
    if kind == "minimum":
        return f"{value} is below the minimum {limit}; write {limit} or more"
    if kind == "maximum":
        return f"{value} is above the maximum {limit}; write {limit} or less"
    if kind == "minItems":
        return f"the list needs at least {limit} item(s); add them"
    if kind == "minLength":
        return "the text is empty; write it, or remove the key"
    if kind == "maxLength":
        return f"the text is longer than {limit} characters; shorten it"
    if kind == "minProperties":
        return "nothing is given between the braces; give at least one key, or remove it"
    if kind == "uniqueItems":
        return "an item is listed twice; keep it once"
    return None
