"""The task functions, by kind: what a job of each kind runs, who may see it, how it retries.

A kind is registered once, at import, with :func:`task`; the queue looks the kind up when it
runs a job, so a module of tasks only has to be imported by :mod:`engine.jobs.tasks`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from engine.diagnostics import EngineError
from engine.dossiers.permissions import Permission

if TYPE_CHECKING:
    from .context import JobContext
    from .models import Job

TaskFunction = Callable[["JobContext"], None]


class JobFailed(EngineError):
    """A task stops with a message for the agent, in French (``retry``: worth trying again,
    when the kind allows retries: a mail relay down, say)."""

    def __init__(self, message: str, *, retry: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.retry = retry


@dataclass(frozen=True, slots=True)
class TaskSpec:
    kind: str
    #: what the job does, in French, for the job page
    label: str
    #: what an agent needs to see the job and download its result
    permission: Permission
    function: TaskFunction
    #: attempts after the first when the task fails (mail tasks)
    retries: int = 0
    #: seconds before each new attempt
    retry_delay: int = 60


TASKS: Final[dict[str, TaskSpec]] = {}
#: a job parameter: its file holds health data, for the infirmerie only
HEALTH: Final = "health"


class UnknownKindError(EngineError, KeyError):
    """No task is registered for this kind."""


def task(kind: str, *, label: str, permission: Permission, retries: int = 0,
         retry_delay: int = 60) -> Callable[[TaskFunction], TaskFunction]:
    """Register the decorated function as the task of ``kind``."""

    def register(function: TaskFunction) -> TaskFunction:
        if kind in TASKS:
            raise ValueError(f"job kind {kind!r} is already registered")
        TASKS[kind] = TaskSpec(kind, label, permission, function, retries, retry_delay)
        return function

    return register


def spec_of(kind: str) -> TaskSpec:
    try:
        return TASKS[kind]
    except KeyError:
        raise UnknownKindError(f"no task for job kind {kind!r}") from None


def permissions_of(job: Job) -> frozenset[Permission]:
    """What an agent needs to see ``job`` and its file: its kind's permission, and reading
    health data when the file holds some.

    :raises UnknownKindError: no task is registered for the job's kind.
    """
    needed = {spec_of(job.kind).permission}
    if job.params.get(HEALTH):
        needed.add(Permission.READ_HEALTH)
    return frozenset(needed)
