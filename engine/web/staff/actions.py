"""What the school adds to a dossier itself: a document uploaded on behalf of the family,
the values of staff-only fields (one form per field on the dossier page), a correction of any
value the family sees (locked ones included; a field of a repeat's row, named by the row's
key), and one value set for every pupil of an origin MEF at once (the destination MEF, the
count shown first).

Every write needs ``Permission.REVIEW_DOSSIERS`` in the establishment, but the correction of a
health value, which needs ``Permission.READ_HEALTH`` (the infirmerie), and is audited by the
``engine.dossiers`` function it calls.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Final

from flask import abort, flash, make_response, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from sqlalchemy import select
from werkzeug.wrappers import Response

from engine.campaign.model import Campaign, FieldSpec, Page, family_campaign, staff_only_fields
from engine.dossiers import sealed
from engine.dossiers.campaigns import context_of, effective_answers
from engine.dossiers.corrected import cell_key, cell_spec, corrected_answers, row_of
from engine.dossiers.corrections import bulk_correct
from engine.dossiers.documents import DocumentError, add_files, slot_label, upload_rule
from engine.dossiers.listing import versions_of
from engine.dossiers.models import Dossier
from engine.dossiers.permissions import Permission
from engine.dossiers.review import ReviewError, correct_value, correctable
from engine.dossiers.services import DossierError, StaleDossierError
from engine.fields.repeat import ROW_KEY
from engine.rules import evaluate_dossier
from engine.text import EMPTY
from engine.web.campaigns import campaign_of
from engine.web.database import get_session
from engine.web.formdata import FieldView, field_views, parse_page
from engine.web.state import app_state

from . import bp
from .access import establishment_for, staff_actor, staff_required
from .context import back_to_dossier, dossier_in

#: longest MEF code or value typed in the bulk form
MAX_VALUE: Final = 200


def _checked_dossier(uai: str, public_id: str) -> Dossier:
    establishment = establishment_for(uai, Permission.REVIEW_DOSSIERS)
    if not FlaskForm().validate_on_submit():
        abort(400)
    return dossier_in(establishment, public_id)


@bp.post("/<uai>/dossier/<public_id>/deposer")
@staff_required
def upload_on_behalf(uai: str, public_id: str) -> Response:
    """An agent adds a document the family gave on paper: inspected like a family upload,
    allowed whatever the dossier's state, recorded with the agent."""
    found = _checked_dossier(uai, public_id)
    campaign = campaign_of(found.campaign_version)
    rule = upload_rule(campaign, str(request.form.get("document") or "")[:200])
    if rule is None:
        flash("Choisissez le document à déposer.", "error")
        return back_to_dossier(uai, public_id)
    uploads = [(part.stream.read(rule.max_size + 1), part.filename or "document")
               for part in request.files.getlist("fichier") if part.filename]
    try:
        add_files(get_session(), app_state().storage, campaign, found, rule.id, uploads, None,
                  staff=staff_actor())
    except DocumentError as error:
        flash(error.message, "error")
    else:
        flash(f"Document « {slot_label(campaign, rule.id, found.answers)} » déposé pour la "
              "famille.", "success")
    return back_to_dossier(uai, public_id)


def _staff_field(campaign: Campaign, field_id: str) -> FieldSpec:
    spec = next((s for s in staff_only_fields(campaign) if s.id == field_id), None)
    if spec is None or not spec.type.has_value or spec.type.is_container:
        abort(404)
    return spec


def _parse(spec: FieldSpec) -> tuple[Any, list[str]]:
    """The value posted for one staff-only field, parsed by its type."""
    parsed = parse_page(Page(id="etablissement", title=EMPTY, fields=(spec,)), request.form, {})
    return parsed.answers.get(spec.id), parsed.errors.get(spec.id, [])


@bp.post("/<uai>/dossier/<public_id>/champs/<field_id>")
@staff_required
def set_staff_field(uai: str, public_id: str, field_id: str) -> Response:
    found = _checked_dossier(uai, public_id)
    version = request.form.get("row_version", "")
    if not (version.isascii() and version.isdigit() and len(version) < 10):
        abort(400)
    campaign = campaign_of(found.campaign_version)
    spec = _staff_field(campaign, field_id)
    value, errors = _parse(spec)
    if errors:
        flash(f"{spec.label.get()} : {errors[0]}", "error")
        return back_to_dossier(uai, public_id)
    try:
        correct_value(get_session(), campaign, found, int(version), staff_actor(), spec.id, value)
    except StaleDossierError:
        flash("Le dossier a été modifié entre-temps : vérifiez-le, puis recommencez.", "warning")
    except (ReviewError, DossierError) as exc:
        flash(getattr(exc, "message", str(exc)), "error")
    else:
        flash(f"« {spec.label.get()} » enregistré.", "success")
    return redirect(url_for("staff.dossier", uai=uai, public_id=public_id,
                            _anchor="etablissement"))


def _views(campaign: Campaign, specs: tuple[FieldSpec, ...], answers: dict[str, Any],
           dossier: Dossier) -> list[FieldView]:
    """Inputs for staff-only fields: the school fills them whatever the family's answers."""
    ctx = context_of(dossier)
    evaluation = evaluate_dossier(campaign, effective_answers(campaign, answers, ctx), ctx)
    views = field_views(campaign, Page(id="etablissement", title=EMPTY, fields=specs), answers,
                        evaluation, {})
    for view in views:
        view.visible, view.required = True, False
    return views


def _settable(campaign: Campaign) -> tuple[FieldSpec, ...]:
    return tuple(s for s in staff_only_fields(campaign)
                 if s.type.has_value and not s.type.is_container)


@bp.app_template_global()
def staff_field_views(dossier: Dossier, campaign: Campaign) -> list[FieldView]:
    """The staff-only fields of the dossier's campaign with the values the school set."""
    specs = _settable(campaign)
    return _views(campaign, specs, corrected_answers(dossier.answers, dossier.corrections),
                  dossier) \
        if specs else []


# -- one value for every pupil of an origin MEF ---------------------------------------------

def _mef_of(dossier: Dossier) -> str:
    pupil = dossier.prefill.get("pupil")
    return str(pupil.get("mef_code") or "") if isinstance(pupil, dict) else ""


@bp.route("/<uai>/<slug>/dossiers/mef", methods=["GET", "POST"])
@staff_required
def bulk_mef(uai: str, slug: str) -> Response | str:
    """Set a staff-only field (the destination MEF) for every pupil of an origin MEF: the GET
    shows the origin MEFs and how many dossiers each holds; the POST sets the value."""
    establishment = establishment_for(uai, Permission.REVIEW_DOSSIERS)
    session = get_session()
    versions = versions_of(session, establishment.id, slug)
    if not versions:
        abort(404)
    latest = campaign_of(max(versions, key=lambda v: v.id))
    dossiers = list(session.scalars(select(Dossier).where(
        Dossier.campaign_version_id.in_([v.id for v in versions])).order_by(Dossier.id)))
    fields = _settable(latest)
    origins: dict[str, int] = {}
    for dossier in dossiers:
        if _mef_of(dossier):
            origins[_mef_of(dossier)] = origins.get(_mef_of(dossier), 0) + 1
    form = FlaskForm()
    args = request.form if request.method == "POST" else request.args
    origin = str(args.get("origine") or "")[:MAX_VALUE]
    chosen = next((s for s in fields if s.id == args.get("champ")),
                  next((s for s in fields if s.id == "mef_destination"),
                       fields[0] if fields else None))
    selected = [d for d in dossiers if origin and _mef_of(d) == origin]
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        if chosen is None or not selected:
            flash("Choisissez une MEF d'origine qui compte des élèves, et le champ à remplir.",
                  "error")
            return redirect(url_for("staff.bulk_mef", uai=uai, slug=slug))
        value, errors = _parse(chosen)
        if errors or value in (None, ""):
            flash(f"{chosen.label.get()} : {errors[0] if errors else 'indiquez une valeur.'}",
                  "error")
            return redirect(url_for("staff.bulk_mef", uai=uai, slug=slug, origine=origin,
                                    champ=chosen.id))
        done, skipped = bulk_correct(get_session(), selected,
                                     lambda d: campaign_of(d.campaign_version), staff_actor(),
                                     chosen.id, value)
        flash(f"« {chosen.label.get()} » renseigné pour {done} dossier{'s' if done > 1 else ''}"
              + (f", {skipped} laissé{'s' if skipped > 1 else ''} de côté (modifié entre-temps)"
                 if skipped else "") + ".", "success")
        return redirect(url_for("staff.dossiers", uai=uai, slug=slug))
    views = _views(latest, (chosen,), {}, dossiers[0]) if chosen is not None and dossiers else []
    return render_template(
        "staff/bulk_mef.html", establishment=establishment, campaign=latest, slug=slug,
        origins=sorted(origins.items()), origin=origin, count=len(selected), fields=fields,
        chosen=chosen, views=views, form=form)


# -- a correction of a value the family sees -------------------------------------------------

@dataclass(frozen=True, slots=True)
class Choice:
    """A value the correction page offers: a field, or a field of one row of a repeat."""

    #: the ``champ`` of the forms: the field's id, or the cell's key (``repeat/row/child``)
    key: str
    spec: FieldSpec
    #: the row's key, for a field of a repeat's row
    row: str | None = None
    #: the row's label ("Responsable légal 2"), for a field of a repeat's row
    group: str = ""

    @property
    def label(self) -> str:
        return f"{self.group} — {self.spec.label.get()}" if self.group else self.spec.label.get()


def _choices(campaign: Campaign, current: dict[str, Any], *,
             health: bool) -> list[tuple[str, list[Choice]]]:
    """The values the family sees that one form corrects, health data or the others: the
    fields, then each row of each repeat (its rows as the school reads them now), by group."""
    fields = [s for s in family_campaign(campaign).top_fields()
              if correctable(campaign, s.id) is not None and sealed.is_health(s) is health]
    groups = [("", [Choice(s.id, s) for s in fields if not s.type.is_container])]
    for repeat in (s for s in fields if s.type.is_container):
        rows = current.get(repeat.id)
        item = repeat.options.item_label.get() or repeat.label.get()
        for n, row in enumerate(rows if isinstance(rows, list) else [], start=1):
            key, group = str(row.get(ROW_KEY)), f"{item} {n}"
            groups.append((group, [Choice(cell_key(repeat.id, key, c.id), c, key, group)
                                   for c in repeat.fields
                                   if correctable(campaign, c.key) is not None]))
    return [(g, items) for g, items in groups if items]


bp.add_app_template_global(cell_key, "cell_key")


def _cell_value(choice: Choice, current: dict[str, Any]) -> Any:
    if choice.row is None:
        return current.get(choice.spec.id)
    found = row_of(current.get(choice.spec.parent_id or ""), choice.row)
    return None if found is None else found.get(choice.spec.id)


def _correction(uai: str, public_id: str, *, health: bool) -> Response | str:
    """The correction page (GET: choose the field or a row's field, see its current value;
    POST: correct it), on the dossier page's side or on the infirmerie's (``health``)."""
    establishment = establishment_for(
        uai, Permission.READ_HEALTH if health else Permission.REVIEW_DOSSIERS)
    found = dossier_in(establishment, public_id)
    campaign = campaign_of(found.campaign_version)
    # what the family now reads (the imported value of a field it never answered included)
    current = effective_answers(campaign, corrected_answers(
        sealed.opened_answers(found) if health else found.answers, found.corrections),
        context_of(found), found.corrections)
    groups = _choices(campaign, current, health=health)
    args = request.form if request.method == "POST" else request.args
    champ = str(args.get("champ") or "")
    choice = next((c for _g, items in groups for c in items if c.key == champ), None)
    form, status = FlaskForm(), 200
    errors: list[str] = []
    # a locked value gets an input here: the school is who corrects it; a row's field is
    # parsed like a field of its own
    unlocked = replace(choice.spec, editable=True, parent_id=None) \
        if choice is not None else None
    value = _cell_value(choice, current) if choice is not None else None
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        version = request.form.get("row_version", "")
        if not (version.isascii() and version.isdigit() and len(version) < 10):
            abort(400)
        if unlocked is None or choice is None:
            if cell_spec(campaign, champ) is None:
                abort(400)
            if int(version) == found.row_version:
                abort(404)  # no such row in the dossier
            return _stale(uai, public_id, health=health)  # the row went meanwhile
        value, errors = _parse(unlocked)
        if not errors:
            try:
                correct_value(get_session(), campaign, found, int(version), staff_actor(),
                              choice.spec.key, value, row=choice.row)
            except StaleDossierError:
                return _stale(uai, public_id, health=health)
            except (ReviewError, DossierError) as exc:
                flash(getattr(exc, "message", str(exc)), "error")
            else:
                flash(f"« {choice.label} » corrigé : la famille verra « corrigé par "
                      "l'établissement ».", "success")
            return _back(uai, public_id, health=health)
        status = 422
    views = _views(campaign, (unlocked,), {**current, unlocked.id: value}, found) \
        if unlocked is not None else []
    if views and errors:
        views[0].errors = errors
    shown = _cell_value(choice, current) if choice is not None else None
    return make_response(render_template(
        "staff/correct.html", establishment=establishment, dossier=found, campaign=campaign,
        groups=groups, choice=choice, spec=choice.spec if choice else None, views=views,
        health=health, current=choice.spec.type.display(shown, choice.spec) if choice else "",
        corrected=choice is not None and choice.key in found.corrections,
        error=f"{choice.label} : {errors[0]}" if choice is not None and errors else None,
        form=form), status)


def _back(uai: str, public_id: str, *, health: bool) -> Response:
    if health:
        return redirect(url_for("staff.health", uai=uai, public_id=public_id))
    return back_to_dossier(uai, public_id)


def _stale(uai: str, public_id: str, *, health: bool) -> Response:
    flash("Le dossier a été modifié entre-temps : vérifiez-le, puis recommencez.", "warning")
    return _back(uai, public_id, health=health)


@bp.route("/<uai>/dossier/<public_id>/corriger", methods=["GET", "POST"])
@staff_required
def correct(uai: str, public_id: str) -> Response | str:
    return _correction(uai, public_id, health=False)


@bp.route("/<uai>/dossier/<public_id>/sante/corriger", methods=["GET", "POST"])
@staff_required
def correct_health(uai: str, public_id: str) -> Response | str:
    return _correction(uai, public_id, health=True)
