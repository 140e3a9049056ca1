"""What plugin field types bring to pages: their Jinja partials and their browser twin scripts.

A plugin type names a folder (``assets_dir``): its ``template`` is looked up there after the
app's templates, and its ``script`` (which registers the type with ``DossierRules.registerType``)
is served at ``/static/fields/<type>.js`` and loaded by wizard pages after rules.js.
"""

from __future__ import annotations

from flask import Blueprint, Flask, abort, send_from_directory, url_for
from flask.typing import ResponseReturnValue
from jinja2 import BaseLoader, ChoiceLoader, FileSystemLoader

from engine.fields import FieldRegistry
from engine.web.state import app_state

bp = Blueprint("field_assets", __name__)


@bp.get("/static/fields/<name>.js")
def script(name: str) -> ResponseReturnValue:
    registry = app_state().registry
    ftype = registry.get(name) if name in registry else None
    if ftype is None or ftype.assets_dir is None or ftype.script is None:
        abort(404)
    return send_from_directory(ftype.assets_dir, ftype.script, mimetype="text/javascript")


def script_urls(registry: FieldRegistry) -> list[str]:
    """URLs of the browser twin scripts of the registry's plugin types."""
    return [url_for("field_assets.script", name=t.name) for t in registry
            if t.assets_dir is not None and t.script is not None]


def init_app(app: Flask, registry: FieldRegistry) -> None:
    """Let templates find the plugin partials and wizard pages load the plugin scripts."""
    folders = sorted({str(t.assets_dir) for t in registry if t.assets_dir is not None})
    if folders:
        loaders: list[BaseLoader] = [FileSystemLoader(f) for f in folders]
        if app.jinja_loader is not None:
            loaders.insert(0, app.jinja_loader)
        app.jinja_loader = ChoiceLoader(loaders)
    app.register_blueprint(bp)

    @app.context_processor
    def _field_scripts() -> dict[str, object]:
        return {"field_scripts": lambda: script_urls(registry)}
