"""The agents of an establishment, for ``MANAGE_STAFF``: list, invite, change a role, remove,
send a reset link, reset the second factor, unlock.

The writes are :mod:`engine.dossiers.agents` (each audited in its transaction); this module
checks who may act on whom. No page grants the deployment administrator flag (the command
line does, ``dossiersco staff create --admin``), and only an administrator acts on an
administrator's account. An agent cannot change, remove or reset their own role or second
factor here, so an establishment is never left without its direction by mistake.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Final

from babel import Locale
from babel.dates import parse_pattern
from flask import abort, flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import EmailField, StringField
from wtforms.validators import AnyOf, DataRequired, Length, Optional

from engine.db import utcnow
from engine.dossiers import agents
from engine.dossiers.invitations import PARIS, send_staff_link
from engine.dossiers.models import Establishment, StaffMembership, StaffRole
from engine.dossiers.permissions import ROLE_LABELS, Permission, can
from engine.dossiers.staff import StaffError, TokenPurpose
from engine.mail import MailError
from engine.web.database import get_session
from engine.web.state import app_state

from . import bp
from .access import current_staff, establishment_for, staff_actor, staff_required

ROLE_CHOICES: Final = [(role.value, label) for role, label in ROLE_LABELS.items()]
MAIL_FAILED: Final = ("Le courriel n'a pas pu être envoyé : réessayez plus tard avec « Envoyer "
                      "un lien de mot de passe ».")


class InviteForm(FlaskForm):  # type: ignore[misc]  # Flask-WTF ships no type hints
    email = EmailField("Adresse électronique", validators=[
        DataRequired("Saisissez l'adresse électronique de l'agent."), Length(max=254)])
    display_name = StringField("Nom et prénom", validators=[Optional(), Length(max=200)])
    #: rendered as a list of the roles (a plain field: no SelectField choice API to track)
    role = StringField("Rôle", default=StaffRole.READ_ONLY.value, validators=[
        AnyOf([value for value, _ in ROLE_CHOICES], message="Choisissez un rôle de la liste.")])


#: what :func:`staff_time` writes, parsed once with its locale (``format_datetime`` parses
#: both at each call, and a dossier's history writes one per event)
_STAFF_TIME: Final = parse_pattern("d MMM y 'à' HH:mm")
_FRENCH: Final = Locale.parse("fr_FR")


@bp.app_template_filter("staff_time")
def staff_time(value: datetime) -> str:
    """A moment in French, Paris time: « 3 déc. 2026 à 14:05 » (a naive one is UTC)."""
    aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    return str(_STAFF_TIME.apply(aware.astimezone(PARIS), _FRENCH))


@bp.context_processor
def _permissions() -> dict[str, Any]:
    def staff_may(permission: str, establishment: Establishment) -> bool:
        account = current_staff()
        return account is not None and can(account, Permission(permission), establishment.id)

    return {"staff_may": staff_may}


def _send(email: str, display_name: str, purpose: TokenPurpose, token: str,
          establishment: Establishment) -> bool:
    settings = app_state().settings
    try:
        send_staff_link(settings, email, display_name, purpose.value, token,
                        expires=utcnow() + agents.LINK_TTL, school=establishment.name)
    except MailError:
        flash(MAIL_FAILED, "error")
        return False
    return True


def _page(establishment: Establishment, form: InviteForm, status: int = 200,
          ) -> tuple[str, int]:
    now = utcnow()
    members = agents.agents_of(get_session(), establishment.id)
    account = current_staff()
    assert account is not None
    return render_template(
        "staff/admin_agents.html", establishment=establishment, members=members, form=form,
        roles=ROLE_CHOICES, role_labels=ROLE_LABELS, now=now, me=account,
        action_form=FlaskForm()), status


@bp.get("/<uai>/agents")
@staff_required
def agents_list(uai: str) -> tuple[str, int]:
    return _page(establishment_for(uai, Permission.MANAGE_STAFF), InviteForm(formdata=None))


@bp.post("/<uai>/agents")
@staff_required
def invite_agent(uai: str) -> Response | tuple[str, int]:
    establishment = establishment_for(uai, Permission.MANAGE_STAFF)
    form = InviteForm()
    if not form.validate_on_submit():
        if form.csrf_token.errors:
            abort(400)
        return _page(establishment, form, 422)
    session = get_session()
    try:
        invitation = agents.invite(session, staff_actor(), establishment, email=form.email.data,
                                   display_name=form.display_name.data or "",
                                   role=StaffRole(form.role.data))
    except StaffError as exc:
        session.rollback()
        form.email.errors = [exc.message]
        return _page(establishment, form, 422)
    session.commit()
    account = invitation.account
    role = ROLE_LABELS[StaffRole(form.role.data)]
    if invitation.token is None:
        flash(f"{account.display_name} a maintenant le rôle {role} dans l'établissement.",
              "success")
    elif _send(account.email, account.display_name, TokenPurpose.INVITATION, invitation.token,
               establishment):
        flash(f"Invitation envoyée à {account.email} ({role}).", "success")
    return redirect(url_for("staff.agents_list", uai=uai))


def _target(uai: str, staff_id: int, *, not_self: bool = False,
            ) -> tuple[Establishment, StaffMembership]:
    """The membership acted on: CSRF checked, the agent in this establishment (else 404), an
    administrator's account for administrators only (403)."""
    establishment = establishment_for(uai, Permission.MANAGE_STAFF)
    if not FlaskForm().validate_on_submit():
        abort(400)
    member = agents.membership(get_session(), establishment.id, staff_id)
    if member is None:
        abort(404)
    me = current_staff()
    assert me is not None
    if member.staff.is_admin and not me.is_admin:
        abort(403)
    if not_self and member.staff_id == me.id:
        flash("Vous ne pouvez pas modifier votre propre accès : demandez-le à un autre membre "
              "de la direction.", "error")
        abort(_back(uai))
    return establishment, member


def _back(uai: str) -> Response:
    return redirect(url_for("staff.agents_list", uai=uai))


def _done(uai: str, message: str) -> Response:
    get_session().commit()
    flash(message, "success")
    return _back(uai)


@bp.post("/<uai>/agents/<int:staff_id>/role")
@staff_required
def change_agent_role(uai: str, staff_id: int) -> Response:
    _, member = _target(uai, staff_id, not_self=True)
    try:
        role = StaffRole(request.form.get("role", ""))
    except ValueError:
        abort(400)
    agents.change_role(get_session(), staff_actor(), member, role)
    return _done(uai, f"{member.staff.display_name} a maintenant le rôle {ROLE_LABELS[role]}.")


@bp.post("/<uai>/agents/<int:staff_id>/retirer")
@staff_required
def remove_agent(uai: str, staff_id: int) -> Response:
    _, member = _target(uai, staff_id, not_self=True)
    name = member.staff.display_name
    agents.remove(get_session(), staff_actor(), member)
    return _done(uai, f"{name} n'a plus accès à l'établissement.")


@bp.post("/<uai>/agents/<int:staff_id>/mot-de-passe")
@staff_required
def send_agent_reset(uai: str, staff_id: int) -> Response:
    establishment, member = _target(uai, staff_id)
    account = member.staff
    token = agents.reset_link(get_session(), staff_actor(), account, establishment.id)
    get_session().commit()
    if _send(account.email, account.display_name, TokenPurpose.RESET, token, establishment):
        flash(f"Lien de mot de passe envoyé à {account.email}.", "success")
    return _back(uai)


@bp.post("/<uai>/agents/<int:staff_id>/double-authentification")
@staff_required
def reset_agent_second_factor(uai: str, staff_id: int) -> Response:
    establishment, member = _target(uai, staff_id, not_self=True)
    agents.reset_second_factor(get_session(), staff_actor(), member.staff, establishment.id)
    return _done(uai, f"Double authentification réinitialisée : {member.staff.display_name} "
                      "la configurera de nouveau à sa prochaine connexion.")


@bp.post("/<uai>/agents/<int:staff_id>/debloquer")
@staff_required
def unlock_agent(uai: str, staff_id: int) -> Response:
    establishment, member = _target(uai, staff_id)
    agents.unlock(get_session(), staff_actor(), member.staff, establishment.id)
    return _done(uai, f"Le compte de {member.staff.display_name} est débloqué.")
