"""The per-app objects views need, kept in ``app.extensions["dossiersco"]``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask import Flask, current_app
from flask_limiter import Limiter

from engine.config import Settings
from engine.db import Database
from engine.dossiers.versions import CampaignCache
from engine.fields import FieldRegistry
from engine.jobs import JobQueue
from engine.security import Hasher
from engine.storage import Storage


@dataclass(frozen=True, slots=True)
class AppState:
    settings: Settings
    database: Database
    storage: Storage
    hasher: Hasher
    limiter: Limiter
    #: compiled campaigns, for the app's life
    campaigns: CampaignCache
    #: the field types campaigns are compiled with: built-in and installed plugins
    registry: FieldRegistry
    #: the background jobs (docs/jobs.md)
    jobs: JobQueue


def app_state(app: Flask | None = None) -> AppState:
    """The state of ``app`` (the current app by default)."""
    state: AppState = (app or current_app).extensions["dossiersco"]
    return state


def today() -> date:
    """The date the campaigns' windows are read on (``DOSSIERSCO_TODAY``, else the real one)."""
    return app_state().settings.today or date.today()
