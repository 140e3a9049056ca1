"""The built-in tasks: the family's confirmation mail, reminders, messages and the notices of
the school's review to families (the exports are in :mod:`engine.jobs.exports`).

Every module of tasks is imported here, so that building a queue registers every kind.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from functools import partial
from typing import Final

from sqlalchemy import select

from engine.dossiers.campaigns import Redaction, context_of, effective_answers
from engine.dossiers.confirmations import send_confirmations
from engine.dossiers.messages import MessageError, Notice, Recipient, send_batch
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
FAMILY_NOTICE: Final = "family_notice"
#: the kinds of one job per family action: the jobs list shows them only when they failed
QUIET_KINDS: Final = frozenset({CONFIRMATION, FAMILY_NOTICE})
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


#: one text to some recipients: the log's kind, subject, body, the placeholders (None: the
#: texts are final) and the recipients
_Batch = tuple[str, str, str, Mapping[str, str] | None, Sequence[Recipient]]


def _progress(ctx: JobContext, before: int, total: int, n: int) -> None:
    ctx.report_progress(before + n, total)


def _send(ctx: JobContext, batches: Sequence[_Batch]) -> None:
    """Send each batch, skipping the messages a previous attempt of the job sent (per dossier
    and guardian: a guardian of two pupils gets one message about each)."""
    reached = {(dossier_id, account_id) for dossier_id, account_id in ctx.session.execute(
        select(SentMessage.dossier_id, SentMessage.account_id).where(
            SentMessage.job_id == ctx.job.id, SentMessage.status == "sent"))}
    total = sum(len(batch[-1]) for batch in batches)
    done = failed = 0
    for kind, subject, body, values, recipients in batches:
        todo = [r for r in recipients if (r.dossier_id, r.account_id) not in reached]
        done += len(recipients) - len(todo)
        ctx.report_progress(done, total)
        try:
            failed += send_batch(
                ctx.session, ctx.settings, ctx.job.establishment_id, ctx.job.campaign_slug,
                todo, kind=kind, subject=subject, body=body, values=values,
                sent_by=ctx.job.requested_by_id, job_id=ctx.job.id,
                progress=partial(_progress, ctx, done, total))
        except MessageError as exc:
            raise JobFailed(str(exc)) from exc
        done += len(todo)
    if failed:
        raise JobFailed(f"{failed} courriel(s) sur {total} n'ont pas pu partir.", retry=True)


def _send_messages(ctx: JobContext) -> None:
    """A reminder or a message: one text with placeholders to every recipient."""
    _send(ctx, [(ctx.params["kind"], ctx.params["subject"], ctx.params["body"],
                 ctx.params["values"],
                 [Recipient.from_params(r) for r in ctx.params["recipients"]])])


task(REMINDERS, label="Relance des familles", permission=Permission.MESSAGE_FAMILIES,
     retries=MAIL_RETRIES, retry_delay=MAIL_RETRY_DELAY)(_send_messages)
task(FAMILY_MESSAGE, label="Message à une famille", permission=Permission.MESSAGE_FAMILIES,
     retries=MAIL_RETRIES, retry_delay=MAIL_RETRY_DELAY)(_send_messages)


@task(FAMILY_NOTICE, label="Courriel aux familles après une décision du collège",
      permission=Permission.MESSAGE_FAMILIES, retries=MAIL_RETRIES, retry_delay=MAIL_RETRY_DELAY)
def family_notices(ctx: JobContext) -> None:
    """The notices of one review action (a refusal, a dossier sent back, the decisions on
    places taken at once), their texts final: sent as they are."""
    _send(ctx, [(n.kind.value, n.subject, n.body, None, n.recipients)
                for n in map(Notice.from_params, ctx.params["notices"])])


# the other modules of tasks: importing them registers their kinds
from . import imports as imports  # noqa: E402
