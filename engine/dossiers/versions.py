"""Campaign versions: the stored texts dossiers are filled against, and their compiled form.

A version is identified by the hash of its text (:func:`engine.campaign.source_hash`, stored
whole; the compiled ``Campaign.version`` is its :func:`~engine.campaign.short_hash`). Every
caller registers a text with :func:`register_version`, finds "the current version" of a
campaign with :func:`latest_version`, and compiles through a :class:`CampaignCache` held by
its app or command run. Authoring (drafts, a published state, a parent version) will extend
these functions rather than add other queries.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from pathlib import Path
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.campaign import load_campaign_text, source_hash
from engine.campaign.model import Campaign
from engine.config import ROOT
from engine.fields import FieldRegistry, new_registry

from .models import CampaignVersion, Establishment

#: where campaign files live when no app says otherwise (as ``Settings`` defaults)
DEFAULT_CAMPAIGNS_DIR: Final = ROOT / "campaigns"


def register_version(session: Session, establishment: Establishment, *, slug: str, title: str,
                     source: str) -> CampaignVersion:
    """The stored version of this exact campaign text, added to the session when new.

    Not committed: the caller's transaction keeps it or drops it (an import adds its campaign
    version in the import's transaction). A text already stored is returned as it is, whatever
    its establishment: the caller decides whether that is acceptable.
    """
    digest = source_hash(source)
    found = session.scalar(select(CampaignVersion).where(
        CampaignVersion.slug == slug, CampaignVersion.version == digest))
    if found is not None:
        return found
    version = CampaignVersion(slug=slug, version=digest, title=title, source=source,
                              establishment=establishment)
    session.add(version)
    return version


def latest_version(session: Session, slug: str) -> CampaignVersion | None:
    """The current version of the campaign ``slug``: the one registered last."""
    return session.scalars(select(CampaignVersion).where(CampaignVersion.slug == slug)
                           .order_by(CampaignVersion.id.desc()).limit(1)).first()


def version_with_hash(session: Session, slug: str, campaign_version: str) -> CampaignVersion | None:
    """The stored version of ``slug`` that compiles to a campaign whose ``version`` is
    ``campaign_version`` (the :func:`~engine.campaign.short_hash` of its stored hash)."""
    return session.scalars(select(CampaignVersion).where(
        CampaignVersion.slug == slug,
        CampaignVersion.version.startswith(campaign_version, autoescape=True))
        .order_by(CampaignVersion.id).limit(1)).first()


#: compiled campaigns shared by every cache of the process, the most recently used last
_SHARED: OrderedDict[tuple[object, ...], Campaign] = OrderedDict()
_SHARED_LOCK = threading.Lock()
#: how many compiled campaigns the process keeps (a deployment runs a few per establishment)
SHARED_CAMPAIGNS: Final = 64


class CampaignCache:
    """Compiled campaigns by version hash, shared by the threads of one app or command run.

    Compiling takes milliseconds and a page view must not pay it: ``create_app`` makes one
    cache for the app's life (``AppState.campaigns``), a command makes its own, and the caches
    of one process share what they compiled. Template files
    (``template:`` of documents) are looked up in ``campaigns_dir``, field types in
    ``registry`` (the app's built-in and plugin types; a new registry when not given).
    """

    def __init__(self, campaigns_dir: Path = DEFAULT_CAMPAIGNS_DIR,
                 registry: FieldRegistry | None = None) -> None:
        self.campaigns_dir = campaigns_dir
        self.registry = registry if registry is not None else new_registry()
        self._compiled: dict[str, Campaign] = {}
        self._lock = threading.Lock()

    def campaign_of(self, version: CampaignVersion) -> Campaign:
        """The compiled campaign of ``version``, compiled once per version hash."""
        key = version.version
        found = self._compiled.get(key)
        if found is not None:
            return found
        with self._lock:
            found = self._compiled.get(key)
            if found is None:
                found = self._compile(version)
                self._compiled[key] = found
        return found

    def _compile(self, version: CampaignVersion) -> Campaign:
        """Compile ``version``, or take it from another cache of the process that compiled
        the same text with the same field types and template folder (a compiled campaign is
        never changed; every app and command of the test suite compiles the same ones)."""
        shared = (version.version, version.slug, self.campaigns_dir,
                  tuple((t.name, type(t)) for t in self.registry))
        with _SHARED_LOCK:
            found = _SHARED.get(shared)
            if found is not None:
                _SHARED.move_to_end(shared)
                return found
        found = load_campaign_text(version.source, name=f"{version.slug}.yaml",
                                   base_dir=self.campaigns_dir, registry=self.registry)
        with _SHARED_LOCK:
            _SHARED[shared] = found
            while len(_SHARED) > SHARED_CAMPAIGNS:
                _SHARED.popitem(last=False)
        return found
