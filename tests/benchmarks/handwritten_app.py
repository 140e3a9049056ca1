"""The baseline of ``bench_wizard.py``: the "restauration" page of the example campaign written by
hand with Flask, Flask-WTF/WTForms, Flask-Login and SQLAlchemy, as a developer would build that
one page without the engine.

Minimal but honest: the same fields, labels, help texts, validators and conditions (the
half-board questions only for half-board pupils, the bursary level required for a bursary
holder, hidden answers cleared), a Jinja template with a base layout, a stepper and the same
label/hint/error markup, CSRF on the form, the logged-in guardian's dossier looked up with an
access check, the canteen fee computed as the campaign's tariff does (brackets, meals, weeks,
sibling reduction, exemption) and the answers written as JSON in SQLite behind the same
optimistic version check. What it does not do is what the engine adds on top: the JSON model
for live conditions in the browser, the history event of each save, prefill and read-only
fields, the "report an error" form.
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from flask import Flask, abort, redirect, render_template, request, url_for
from flask_login import LoginManager, UserMixin, current_user, login_required, login_user
from flask_wtf import FlaskForm
from jinja2 import DictLoader
from sqlalchemy import JSON, ForeignKey, String, create_engine, event, func, select, update
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker
from werkzeug.security import check_password_hash, generate_password_hash
from werkzeug.wrappers import Response
from wtforms import DecimalField, HiddenField, RadioField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, NumberRange, Optional, ValidationError

PAGES = [("eleve", "Élève"), ("scolarite", "Options pour la rentrée"),
         ("famille", "Responsables légaux"), ("urgence", "Contacts en cas d'urgence"),
         ("vie_scolaire", "Vie scolaire"), ("restauration", "Restauration scolaire"),
         ("associations", "Associations"), ("sante", "Santé"), ("pieces", "Pièces à joindre"),
         ("validation", "Validation")]
REQUIRED = "Ce champ est obligatoire."
HALF_BOARD = ("dp4", "dp5")
#: (up to, price of a meal, bracket) — the campaign's "cantine" tariff
BRACKETS = ((Decimal("450"), Decimal("1.50"), "A"), (Decimal("800"), Decimal("2.40"), "B"),
            (Decimal("1200"), Decimal("3.30"), "C"), (None, Decimal("4.20"), "D"))
WEEKS = 36
SIBLING_REDUCTION = Decimal("0.20")


class Base(DeclarativeBase):
    pass


class Account(Base, UserMixin):
    __tablename__ = "account"
    id: Mapped[int] = mapped_column(primary_key=True)
    login: Mapped[str] = mapped_column(String(32), unique=True)
    code_hash: Mapped[str] = mapped_column(String(200))


class Dossier(Base):
    __tablename__ = "dossier"
    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), index=True)
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    birth_date: Mapped[date]
    answers: Mapped[dict[str, Any]] = mapped_column(JSON)
    row_version: Mapped[int] = mapped_column(default=1)


def money(amount: Decimal) -> str:
    whole, _, cents = f"{amount:,.2f}".partition(".")
    return whole.replace(",", "\u202f") + "," + cents + "\u00a0€"


def canteen_fee(answers: dict[str, Any], rank: int) -> tuple[Decimal, str] | None:
    """The canteen fee and its explanation, or None for a day pupil."""
    regime = answers.get("regime")
    if regime not in HALF_BOARD:
        return None
    if answers.get("boursier_echelon") == "3":
        return Decimal("0.00"), "Exonération (boursier échelon 3)"
    raw = answers.get("quotient_familial")
    quotient = Decimal(raw) if raw is not None else None
    price, bracket = next((p, b) for limit, p, b in BRACKETS
                          if limit is None or (quotient is not None and quotient <= limit))
    meals = 4 if regime == "dp4" else 5
    amount = price * meals * WEEKS
    how = (f"Quotient familial {quotient} → tranche {bracket}" if quotient is not None
           else f"Quotient familial non renseigné → tranche {bracket}")
    how += f", {money(price)} × {meals} repas par semaine × {WEEKS} semaines"
    if rank >= 2:
        amount -= amount * SIBLING_REDUCTION
        how += ", réduction fratrie −20 %"
    amount = amount.quantize(Decimal("0.01"), ROUND_HALF_UP)
    return amount, f"{how} = {money(amount)}"


class FrenchDecimalField(DecimalField):  # type: ignore[misc]
    """Accepts "450,50" and "1 200" as French families type them."""

    def process_formdata(self, valuelist: list[str]) -> None:
        super().process_formdata([v.replace("\u00a0", "").replace(" ", "").replace(",", ".")
                                  for v in valuelist])


def two_decimals(_form: Any, field: DecimalField) -> None:
    if field.data is not None and field.data.as_tuple().exponent < -2:
        raise ValidationError("Saisissez au plus 2 chiffres après la virgule.")


class RestaurationForm(FlaskForm):  # type: ignore[misc]
    row_version = HiddenField()
    regime = RadioField("Régime", validators=[InputRequired(REQUIRED)], choices=[
        SelectChoice("externe", "Externe"),
        SelectChoice("dp4", "Demi-pensionnaire 4 jours (lundi, mardi, jeudi, vendredi)"),
        SelectChoice("dp5", "Demi-pensionnaire 5 jours")])
    quotient_familial = FrenchDecimalField(
        "Quotient familial CAF", description="Sans quotient familial, le tarif de la tranche D "
        "s'applique.", validators=[Optional(), NumberRange(0, 5000, "Saisissez un nombre entre "
                                                           "0 et 5000."), two_decimals])
    boursier = RadioField("Votre enfant est-il boursier de collège ?", validators=[Optional()],
                          choices=[SelectChoice("true", "Oui"), SelectChoice("false", "Non")])
    boursier_echelon = RadioField("Échelon de la bourse", validators=[Optional()], choices=[
        SelectChoice(n, f"Échelon {n}") for n in ("1", "2", "3")])
    mode_paiement = RadioField(
        "Mode de paiement de la demi-pension", validators=[Optional()],
        description="La demi-pension est payée en trois fois, à chaque trimestre.", choices=[
            SelectChoice("prelevement", "Prélèvement automatique"),
            SelectChoice("cheque", "Chèque"),
            SelectChoice("especes", "Espèces (au service de gestion)")])

    def half_board(self) -> bool:
        return self.regime.data in HALF_BOARD

    def bursar(self) -> bool:
        return self.half_board() and self.boursier.data == "true"

    def validate(self, extra_validators: Any = None) -> bool:
        ok: bool = super().validate(extra_validators)
        if self.bursar() and not self.boursier_echelon.data:
            self.boursier_echelon.errors = [REQUIRED]
            ok = False
        if self.half_board() and not self.mode_paiement.data:
            self.mode_paiement.errors = [REQUIRED]
            ok = False
        for name in ("quotient_familial", "boursier"):
            if not self.half_board():
                getattr(self, name).errors = []
        return ok and not any(f.errors for f in self if f.name != "csrf_token")

    def answers(self) -> dict[str, Any]:
        """The answers to store, hidden ones cleared."""
        half = self.half_board()
        quotient = self.quotient_familial.data
        return {"regime": self.regime.data,
                "quotient_familial": str(quotient) if half and quotient is not None else None,
                "boursier": (self.boursier.data == "true") if half and self.boursier.data
                else None,
                "boursier_echelon": self.boursier_echelon.data if self.bursar() else None,
                "mode_paiement": self.mode_paiement.data if half else None}

    @classmethod
    def from_answers(cls, answers: dict[str, Any], row_version: int) -> RestaurationForm:
        boursier = answers.get("boursier")
        quotient = answers.get("quotient_familial")
        return cls(data={
            "row_version": row_version, "regime": answers.get("regime"),
            "quotient_familial": None if quotient is None else Decimal(quotient),
            "boursier": None if boursier is None else ("true" if boursier else "false"),
            "boursier_echelon": answers.get("boursier_echelon"),
            "mode_paiement": answers.get("mode_paiement")})


TEMPLATES = {
    "base.html": """<!doctype html>
<html lang="fr">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{% block title %}{% endblock %} – DossierSCO</title>
  <link rel="stylesheet" href="/static/app.css">
</head>
<body>
  <a class="skip-link" href="#contenu">Aller au contenu</a>
  <header class="site-header"><p>DossierSCO</p>
    <nav aria-label="Mon compte"><a href="/mes-dossiers">Mes dossiers</a></nav></header>
  <main id="contenu" tabindex="-1">{% block content %}{% endblock %}</main>
  <footer class="site-footer"><p>DossierSCO — réinscription en ligne dans les collèges.</p></footer>
  <script src="/static/form.js" defer></script>
</body>
</html>""",
    "_field.html": """
{% macro field_errors(field) %}{% if field.errors %}
<p class="error-message" id="{{ field.id }}-error">{% for e in field.errors %}
<span class="visually-hidden">Erreur : </span>{{ e }}{% endfor %}</p>{% endif %}{% endmacro %}
{% macro hint(field) %}{% if field.description %}
<p class="hint" id="{{ field.id }}-hint">{{ field.description }}</p>{% endif %}{% endmacro %}
{% macro radios(field, required, shown=True) %}
<div class="field{% if field.errors %} field-error{% endif %}"{% if not shown %} hidden{% endif %}>
<fieldset><legend>{{ field.label.text }}{% if required %}
<span class="required" aria-hidden="true"> *</span>{% else %}
<span class="optional"> (facultatif)</span>{% endif %}</legend>
{{ hint(field) }}{{ field_errors(field) }}
{% for option in field %}<div class="choice">{{ option() }} {{ option.label() }}</div>{% endfor %}
</fieldset></div>{% endmacro %}
{% macro number(field, unit, shown=True) %}
<div class="field{% if field.errors %} field-error{% endif %}"{% if not shown %} hidden{% endif %}>
<label for="{{ field.id }}">{{ field.label.text }}<span class="optional"> (facultatif)</span></label>
{{ hint(field) }}{{ field_errors(field) }}
{{ field(class_="input", inputmode="decimal", **{"aria-describedby": field.id ~ "-hint"}) }}
{{ unit }}
</div>{% endmacro %}""",
    "page.html": """{% extends "base.html" %}{% import "_field.html" as f %}
{% block title %}{% if errors %}Erreur : {% endif %}Restauration scolaire – étape 6 sur 10
{%- endblock %}
{% block content %}
<p>Réinscription 2027-2028 au collège Jean Moulin —
<strong>{{ dossier.first_name }} {{ dossier.last_name }}</strong></p>
<nav class="stepper" aria-label="Étapes du dossier"><ol>
{% for id, title in pages %}<li>{% if id == "restauration" %}
<span aria-current="step">{{ title }}</span>{% else %}
<a href="{{ url_for('page', public_id=dossier.public_id, page_id=id) }}">{{ title }}</a>
{% endif %}</li>{% endfor %}
</ol></nav>
{% if errors %}<div class="error-summary" role="alert" tabindex="-1">
<h2>{{ errors | length }} réponse(s) à corriger sur cette page</h2><ul>
{% for field in errors %}
<li><a href="#{{ field.id }}">{{ field.label.text }} : {{ field.errors[0] }}</a></li>
{% endfor %}</ul></div>{% endif %}
<h1><span>Étape 6 sur 10</span> Restauration scolaire</h1>
<form method="post" novalidate>
  {{ form.csrf_token }}{{ form.row_version }}
  {{ f.radios(form.regime, True) }}
  <div class="info"{% if not half_board %} hidden{% endif %}><h2>Tarifs de la demi-pension</h2>
  <p>Le prix du repas dépend du quotient familial CAF : tranche A jusqu'à 450 € (1,50 €),
  B jusqu'à 800 € (2,40 €), C jusqu'à 1 200 € (3,30 €), D au-delà ou sans quotient (4,20 €),
  pour 36 semaines. Réduction de 20 % à partir du deuxième enfant inscrit au collège ; les
  boursiers de l'échelon 3 sont exonérés.</p></div>
  {{ f.number(form.quotient_familial, "€", half_board) }}
  {{ f.radios(form.boursier, False, half_board) }}
  {{ f.radios(form.boursier_echelon, True, bursar) }}
  <p class="computed"{% if not half_board %} hidden{% endif %}>
  Nombre de repas prévus dans l'année : {{ meals }}</p>
  {{ f.radios(form.mode_paiement, True, half_board) }}
  <div class="wizard-nav">
    <button type="submit" name="action" value="previous" class="button button--secondary">
    Précédent</button>
    <button type="submit" name="action" value="save" class="button button--tertiary">
    Enregistrer et finir plus tard</button>
    <button type="submit" name="action" value="next" class="button">Suivant</button>
  </div>
</form>
<aside class="fees" aria-labelledby="fees-title"{% if not fee %} hidden{% endif %}>
<h2 id="fees-title">Frais pour l'année</h2>
{% if fee %}<ul><li>Demi-pension 2027-2028 {{ money(fee[0]) }}<br>
<span class="hint">{{ fee[1] }}</span></li></ul>
<p>Total : <strong>{{ money(fee[0]) }}</strong></p>{% endif %}</aside>
{% endblock %}""",
}


def create_handwritten_app(database: Path, secret_key: str) -> Flask:
    """The app on the SQLite file ``database`` (tables created when missing)."""
    app = Flask(__name__)
    app.config.update(SECRET_KEY=secret_key, WTF_CSRF_TIME_LIMIT=None)
    app.jinja_loader = DictLoader(TEMPLATES)
    app.jinja_env.globals["money"] = money
    engine = create_engine(f"sqlite:///{database}")

    @event.listens_for(engine, "connect")
    def _pragmas(connection: Any, _record: Any) -> None:
        cursor = connection.cursor()
        # the same durability settings as the engine's SQLite default (engine/db.py)
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    Base.metadata.create_all(engine)
    sessions = sessionmaker(engine, expire_on_commit=False)
    app.extensions["sessions"] = sessions
    logins = LoginManager(app)

    @logins.user_loader  # type: ignore[untyped-decorator]
    def _load_user(account_id: str) -> Account | None:
        with sessions() as db:
            return db.get(Account, int(account_id))

    @app.post("/connexion")
    def login() -> Response:
        with sessions() as db:
            account = db.scalar(select(Account).where(Account.login == request.form["login"]))
            if account is None or not check_password_hash(account.code_hash,
                                                           request.form["code"]):
                abort(403)
            login_user(account)
        return redirect("/mes-dossiers")

    def render(db: Session, dossier: Dossier, form: RestaurationForm, answers: dict[str, Any],
               status: int = 200) -> tuple[str, int]:
        rank = 1 + (db.scalar(select(func.count(Dossier.id)).where(
            Dossier.account_id == dossier.account_id,
            Dossier.birth_date < dossier.birth_date)) or 0)
        errors = [f for f in form if f.errors and f.name != "csrf_token"]
        half_board = answers.get("regime") in HALF_BOARD
        return render_template(
            "page.html", dossier=dossier, form=form, pages=PAGES, errors=errors,
            half_board=half_board, bursar=half_board and answers.get("boursier") is True,
            meals=(4 if answers.get("regime") == "dp4" else 5) * WEEKS,
            fee=canteen_fee(answers, rank)), status

    @app.route("/dossier/<public_id>/etape/<page_id>", methods=["GET", "POST"])
    @login_required  # type: ignore[untyped-decorator]
    def page(public_id: str, page_id: str) -> Response | tuple[str, int]:
        if page_id != "restauration":
            abort(404)
        with sessions() as db:
            dossier = db.scalar(select(Dossier).where(Dossier.public_id == public_id,
                                                      Dossier.account_id == current_user.id))
            if dossier is None:
                abort(404)
            if request.method == "GET":
                return render(db, dossier, RestaurationForm.from_answers(
                    dossier.answers, dossier.row_version), dossier.answers)
            form = RestaurationForm()
            valid = form.validate()
            if form.csrf_token.errors:
                abort(400)
            answers = {**dossier.answers, **form.answers()}
            expected = int(form.row_version.data or 0)
            saved = db.execute(update(Dossier).where(
                Dossier.id == dossier.id, Dossier.row_version == expected).values(
                answers=answers, row_version=expected + 1))
            if saved.rowcount != 1:
                db.rollback()
                return render(db, dossier, form, answers, 409)
            db.commit()
            if not valid:
                form.row_version.data = expected + 1
                return render(db, dossier, form, answers, 422)
            return redirect(url_for("page", public_id=public_id, page_id="associations"))

    return app


def add_family(app: Flask, *, login: str, code: str, public_id: str) -> None:
    """One guardian and their child's dossier, with nothing answered yet."""
    with app.extensions["sessions"]() as db:
        account = Account(login=login, code_hash=generate_password_hash(code))
        db.add(account)
        db.flush()
        db.add(Dossier(public_id=public_id, account_id=account.id, first_name="Léa",
                       last_name="MARTIN", birth_date=date(2014, 3, 2), answers={}))
        db.commit()
