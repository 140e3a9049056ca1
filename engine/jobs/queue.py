"""The queue of one app: huey (SQLite file or Redis) carrying job ids, and the ``job`` table
carrying everything the pages show.

Huey only ever sees a job id; the task of the job's kind is looked up when it runs. The
consumer runs in ``dossiersco serve`` (a thread of the server's process) or in ``dossiersco
worker``; with ``queue_immediate`` each job runs inside the call that enqueues it.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import sys
import threading
from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any, Final

from huey import Huey, MemoryHuey, RedisHuey, SqliteHuey, crontab
from huey.api import Task
from huey.consumer import Consumer
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.config import Settings
from engine.db import Database, upgrade, utcnow
from engine.dossiers.versions import CampaignCache
from engine.fields import new_registry
from engine.storage import Storage, storage_from_settings

from .context import JobContext
from .models import Job, JobState
from .registry import JobFailed, UnknownKindError, spec_of
from .retention import Purged, purge_letters, purge_personal_data

log = logging.getLogger(__name__)

#: a running job silent for longer than this (no progress report) was killed with its worker
STALE_AFTER: Final = timedelta(minutes=15)
UNQUEUED_MESSAGE: Final = ("La file d'attente des tâches est momentanément injoignable : la "
                           "tâche n'a pas été lancée. Relancez-la dans quelques minutes.")
#: an idle consumer looks at the queue at least this often (seconds; huey's default is 10)
MAX_POLL_DELAY: Final = 2.0


#: what the agent reads on a job whose worker died under it
INTERRUPTED: Final = ("Tâche interrompue : le processus qui l'exécutait s'est arrêté avant la "
                      "fin. Aucun fichier n'a été gardé ; relancez la tâche.")


def worker_name() -> str:
    """This process, as the ``worker`` of the jobs it runs."""
    return f"{socket.gethostname()}:{os.getpid()}"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def make_huey(settings: Settings, name: str | None = None) -> Huey:
    """Redis when ``queue_url`` names one, else a SQLite file in the instance folder
    (``name``: the queue's name, the prefix of its keys in Redis; ``queue_name`` when
    absent)."""
    name = name or settings.queue_name
    if settings.queue_immediate:
        return MemoryHuey(name, immediate=True, results=False)
    if settings.queue_url:
        return RedisHuey(name, url=settings.queue_url, results=False)
    settings.instance_dir.mkdir(parents=True, exist_ok=True)
    return SqliteHuey(name, filename=str(settings.instance_dir / "queue.sqlite3"), results=False)


def is_stale(job: Job) -> bool:
    """A job marked running whose worker stopped giving news: it will never finish."""
    seen = job.heartbeat_at or job.started_at
    return job.job_state is JobState.RUNNING and seen is not None and utcnow() - seen > STALE_AFTER


def can_rerun(job: Job) -> bool:
    return job.job_state is JobState.FAILED or is_stale(job)


class _InProcessConsumer(Consumer):  # type: ignore[misc]
    """A consumer living in a thread of another program, which keeps its own signal handlers
    (waitress stops on Ctrl+C; the consumer is stopped by :meth:`JobQueue.stop_consumer`)."""

    def _set_signal_handlers(self) -> None:
        return None


class _ChildConsumer(Consumer):  # type: ignore[misc]
    """The consumer of a worker that ``dossiersco serve`` started: it stops, its running jobs
    finished, when its standard input closes (the server stopping it, or gone)."""

    def start(self) -> None:
        super().start()  # the signal handlers are set: SIGINT is huey's graceful stop now
        threading.Thread(target=self._stop_at_end_of_input, name="dossiersco-lifeline",
                         daemon=True).start()

    def _stop_at_end_of_input(self) -> None:
        while sys.stdin.buffer.read(4096):
            pass
        os.kill(os.getpid(), signal.SIGINT)


class JobQueue:
    """Enqueue jobs and run them, for one database and one storage."""

    def __init__(self, settings: Settings, database: Database, storage: Storage,
                 campaigns: CampaignCache, *, name: str | None = None) -> None:
        self.settings = settings
        self.database = database
        self.storage = storage
        self.campaigns = campaigns
        self.huey = make_huey(settings, name)
        self._run = self.huey.task(context=True, name="dossiersco.run_job")(self._execute)
        self.huey.periodic_task(crontab(minute="7"), name="dossiersco.purge")(self.purge)
        self.huey.periodic_task(crontab(hour="3", minute="17"),
                                name="dossiersco.retention")(self.purge_personal_data)
        self._consumer: Consumer | None = None
        self._thread: threading.Thread | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> JobQueue:
        """The queue of a worker process: its own database (migrated like the app's when
        ``auto_migrate``), storage and campaign cache."""
        database = Database.connect(settings.database_url)
        if settings.auto_migrate:
            upgrade(database.engine)
        return cls(settings, database, storage_from_settings(settings),
                   CampaignCache(settings.campaigns_dir, new_registry()))

    # -- enqueueing ------------------------------------------------------------------------

    def enqueue(self, kind: str, params: Mapping[str, Any], *, requested_by: int | None = None,
                establishment_id: int | None = None, campaign_slug: str | None = None) -> Job:
        """Record a job of ``kind`` and queue it; the job as it stands once queued (or, in
        immediate mode, once run).

        Call it after committing your own transaction: on SQLite the job is written by a
        session of its own, which would wait for your write lock.

        :raises UnknownKindError: no task is registered for ``kind``.
        """
        spec = spec_of(kind)
        with self.database.sessions() as session:
            job = Job(kind=kind, params=dict(params), establishment_id=establishment_id,
                      campaign_slug=campaign_slug, requested_by_id=requested_by,
                      state=JobState.QUEUED.value, progress_done=0, attempts=0)
            session.add(job)
            session.commit()
            job_id = job.id
        # in immediate mode a retry runs at once (nothing would run it later)
        delay = 0 if self.settings.queue_immediate else spec.retry_delay
        try:
            self.huey.enqueue(self._run.s(job_id, retries=spec.retries, retry_delay=delay))
        except Exception as exc:  # noqa: BLE001  # redis' errors, or the SQLite file's
            # the queue is unreachable (Redis down): the job is failed, not left queued
            # forever, so the page says so and it can be re-run once the queue is back
            log.error("job %s not queued: %s", job_id, type(exc).__name__)
            with self.database.sessions() as session:
                unqueued = session.get(Job, job_id)
                assert unqueued is not None
                self._fail(session, unqueued, UNQUEUED_MESSAGE)
        found = self.get(job_id)
        assert found is not None
        return found

    def rerun(self, job: Job, *, requested_by: int | None) -> Job:
        """A new job doing what ``job`` (failed or killed) was asked to do."""
        return self.enqueue(job.kind, job.params, requested_by=requested_by,
                            establishment_id=job.establishment_id, campaign_slug=job.campaign_slug)

    def get(self, job_id: int) -> Job | None:
        with self.database.sessions() as session:
            return session.get(Job, job_id)

    # -- running ---------------------------------------------------------------------------

    def _execute(self, job_id: int, task: Task | None = None) -> None:
        """Run the job: state, attempts and times around the kind's task; a failure that may
        be retried is raised again for huey to requeue."""
        with self.database.sessions() as session:
            job = session.get(Job, job_id)
            if job is None or job.job_state is JobState.DONE:
                return
            try:
                spec = spec_of(job.kind)
            except UnknownKindError:
                self._fail(session, job, "Ce type de tâche n'existe plus dans cette version.")
                return
            now = utcnow()
            job.state, job.attempts, job.message = JobState.RUNNING.value, job.attempts + 1, None
            job.started_at, job.heartbeat_at, job.worker = now, now, worker_name()
            session.commit()
            left = task.retries if task is not None else 0
            try:
                spec.function(JobContext(job, session, self.settings, self.storage,
                                         self.campaigns))
            except JobFailed as exc:
                session.rollback()
                retry = exc.retry and left > 0
                self._fail(session, job, exc.message, retry=retry)
                if retry:
                    raise
                return
            except Exception as exc:
                session.rollback()
                log.exception("job %s (%s) failed", job.public_id, job.kind)
                self._fail(session, job, f"Erreur inattendue ({type(exc).__name__}) ; "
                           f"référence de la tâche : {job.public_id}.", retry=left > 0)
                if left > 0:
                    raise
                return
            job.state = JobState.DONE.value
            job.finished_at = utcnow()
            if job.progress_total is not None:
                job.progress_done = job.progress_total
            if job.result_key is not None:
                job.expires_at = job.finished_at + self.settings.job_retention
            session.commit()

    def _fail(self, session: Session, job: Job, message: str, *, retry: bool = False) -> None:
        if job.result_key is not None:
            self.storage.delete(job.result_key)
        job.result_key = job.result_name = job.result_size = job.result_mime = None
        job.state = (JobState.QUEUED if retry else JobState.FAILED).value
        job.message = f"{message} Nouvel essai prévu." if retry else message
        job.finished_at = None if retry else utcnow()
        session.commit()

    def recover(self) -> int:
        """Fail the jobs left running by a dead process of this host (a worker killed, a
        server stopped hard); the number failed. Their half-written file was never
        registered (:meth:`JobContext.store_result` runs last), and any object they stored
        is deleted. Jobs of other hosts wait for :data:`STALE_AFTER` without news."""
        host = socket.gethostname()
        count = 0
        with self.database.sessions() as session:
            for job in session.scalars(select(Job).where(
                    Job.state == JobState.RUNNING.value, Job.worker.like(f"{host}:%"))):
                pid = (job.worker or "").rpartition(":")[2]
                if pid.isdigit() and not _alive(int(pid)):
                    self._fail(session, job, INTERRUPTED)
                    count += 1
        return count

    def purge(self) -> int:
        """Delete the files whose time is up, and those of jobs killed mid-run; the number
        deleted. The jobs stay listed, without their file; so do the web imports, without
        their letters once their time is up (:func:`purge_letters`)."""
        count = 0
        with self.database.sessions() as session:
            count += purge_letters(session, self.storage)
            jobs = session.scalars(select(Job).where(Job.result_key.is_not(None)))
            for job in jobs:
                expired = job.expires_at is not None and job.expires_at <= utcnow()
                if expired or is_stale(job):
                    assert job.result_key is not None
                    self.storage.delete(job.result_key)
                    job.result_key = None
                    count += 1
            session.commit()
        return count

    def purge_personal_data(self) -> list[Purged]:
        """The daily retention purge (docs/campaign-language.md): the personal data of the
        campaigns whose time is up."""
        with self.database.sessions() as session:
            return purge_personal_data(session, self.storage, self.campaigns,
                                       self.settings.today or date.today())

    # -- consumers -------------------------------------------------------------------------

    def consumer(self, workers: int = 1, *, in_process: bool = False,
                 child: bool = False) -> Consumer:
        """A huey consumer of this queue with ``workers`` threads: in a thread of another
        program (``in_process``), in a child process of ``dossiersco serve`` (``child``), or
        a worker process of its own."""
        cls = _InProcessConsumer if in_process else _ChildConsumer if child else Consumer
        return cls(self.huey, workers=workers, worker_type="thread", periodic=True,
                   check_worker_health=not in_process, max_delay=MAX_POLL_DELAY)

    def start_consumer(self, workers: int = 1) -> None:
        """Run a consumer in a thread of this process (an app served by the tests' live
        server; ``dossiersco serve`` starts a worker process instead)."""
        if self.settings.queue_immediate or self._thread is not None:
            return
        self.recover()
        self._consumer = self.consumer(workers, in_process=True)
        self._thread = threading.Thread(target=self._consumer.run, name="dossiersco-jobs",
                                        daemon=True)
        self._thread.start()

    def stop_consumer(self) -> None:
        """Stop the in-process consumer, letting running tasks finish."""
        if self._consumer is None or self._thread is None:
            return
        self._consumer.stop(graceful=True)
        self._thread.join()
        self._consumer = self._thread = None
