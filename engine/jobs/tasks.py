"""The built-in tasks: the family's confirmation mail, reminders and messages to families
(the exports are in :mod:`engine.jobs.exports`).

Every module of tasks is imported here, so that building a queue registers every kind.
"""

from __future__ import annotations

from dataclasses import replace
from functools import partial
from typing import Final

from sqlalchemy import select

from engine.dossiers.campaigns import Redaction, context_of, effective_answers
from engine.dossiers.confirmations import send_confirmations
from engine.dossiers.messages import MessageError, Recipient, send_batch
from engine.dossiers.models import Dossier, SentMessage
from engine.dossiers.permissions import Permission
from engine.dossiers.submission import confirmation_recipients
from engine.exports.recap import recap_pdf
from engine.mail import send_mail
from engine.rules import evaluate_dossier

from . import exports  # noqa: F401  # registers the export kinds
from .context import JobContext
from .registry import JobFailed, task

CONFIRMATION: Final = "confirmation_mail"
REMINDERS: Final = "reminders"
FAMILY_MESSAGE: Final = "family_message"
#: a relay down for a while: three more attempts, five minutes apart
MAIL_RETRIES: Final = 3
MAIL_RETRY_DELAY: Final = 300


@task(CONFIRMATION, label="Courriel de confirmation d'envoi du dossier",
      permission=Permission.MESSAGE_FAMILIES, retries=MAIL_RETRIES, retry_delay=MAIL_RETRY_DELAY)
def confirmation_mail(ctx: JobContext) -> None:
    """One message per guardian with the récapitulatif that guardian may read; a new attempt
    writes only to the guardians not reached yet."""
    dossier = ctx.session.get(Dossier, ctx.params["dossier_id"])
    if dossier is None:
        raise JobFailed("Le dossier n'existe plus.")
    campaign = ctx.campaigns.campaign_of(dossier.campaign_version)
    dctx = context_of(dossier)
    evaluation = evaluate_dossier(campaign, effective_answers(campaign, dossier.answers, dctx), dctx)

    def recap(redaction: Redaction) -> bytes:
        seen = replace(evaluation, values=redaction.answers(campaign, evaluation.values))
        return recap_pdf(campaign, dossier, seen, redactor=redaction)

    total = len(confirmation_recipients(dossier))
    done = set(ctx.params.get("sent", []))
    sent = send_confirmations(dossier, campaign, review_url=ctx.params["review_url"], recap=recap,
                              send=partial(send_mail, ctx.settings), done=done)
    ctx.job.params = {**ctx.params, "sent": sorted(done)}
    ctx.report_progress(len(done), total)
    if not sent:
        raise JobFailed(f"{total - len(done)} courriel(s) de confirmation sur {total} "
                        "n'ont pas pu partir (serveur de courriel injoignable ou refus).", retry=True)


def _recipients(ctx: JobContext) -> list[Recipient]:
    """The recipients a job of messages was given, minus those it already reached."""
    reached = set(ctx.session.scalars(
        select(SentMessage.account_id).where(SentMessage.job_id == ctx.job.id,
                                             SentMessage.status == "sent")))
    return [Recipient.from_params(r) for r in ctx.params["recipients"]
            if r["account_id"] not in reached]


def _send_messages(ctx: JobContext) -> None:
    recipients = _recipients(ctx)
    total = len(ctx.params["recipients"])
    already = total - len(recipients)
    ctx.report_progress(already, total)
    try:
        failed = send_batch(ctx.session, ctx.settings, ctx.job.establishment_id,
                            ctx.job.campaign_slug, recipients, kind=ctx.params["kind"],
                            subject=ctx.params["subject"], body=ctx.params["body"],
                            values=ctx.params["values"],
                            sent_by=ctx.job.requested_by_id, job_id=ctx.job.id,
                            progress=lambda n: ctx.report_progress(already + n, total))
    except MessageError as exc:
        raise JobFailed(str(exc)) from exc
    if failed:
        raise JobFailed(f"{failed} courriel(s) sur {total} n'ont pas pu partir.", retry=True)


task(REMINDERS, label="Relance des familles", permission=Permission.MESSAGE_FAMILIES,
     retries=MAIL_RETRIES, retry_delay=MAIL_RETRY_DELAY)(_send_messages)
task(FAMILY_MESSAGE, label="Message à une famille", permission=Permission.MESSAGE_FAMILIES,
     retries=MAIL_RETRIES, retry_delay=MAIL_RETRY_DELAY)(_send_messages)


# the other modules of tasks: importing them registers their kinds
from . import imports as imports  # noqa: E402
