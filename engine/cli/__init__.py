"""The ``dossiersco`` command, one module per command group.

The CLI sits on top, beside the web layer: it may import every other part of the engine, and
nothing imports it (checked by the import-linter contracts of ``pyproject.toml``).
"""

from __future__ import annotations

import click

from . import (
    campaigns,
    dossiers,
    exports,
    guardians,
    imports,
    keys,
    migrate,
    retention,
    serve,
    staff,
    storage,
    worker,
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """DossierSCO: online re-enrolment campaigns."""


for _group in (campaigns, serve, migrate, imports, dossiers, exports, staff, worker, keys,
               storage, retention, guardians):
    _group.register(main)

__all__ = ["main"]
