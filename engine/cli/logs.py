"""Where a process's log lines go: standard error, as text or as JSON lines
(``DOSSIERSCO_LOG_FORMAT``, documented in docs/deployment.md, "Logs").

The app configures no handler (a test or an embedding script keeps its own); each command
that runs a server or a worker calls :func:`configure_logging` once.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Final

from engine.config import Settings

TEXT_FORMAT: Final = "%(asctime)s %(levelname)s %(name)s %(message)s"
#: the structured fields some records carry (engine.security, engine.web.access_log)
STRUCTURED: Final = ("security", "access")


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ``time`` (UTC, ISO 8601), ``level``, ``logger``, ``message``,
    the record's structured fields (``security``, ``access``) and ``exception`` (a traceback)."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname, "logger": record.name, "message": record.getMessage()}
        for name in STRUCTURED:
            fields = getattr(record, name, None)
            if isinstance(fields, dict):
                line[name] = fields
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def formatter_for(settings: Settings) -> logging.Formatter:
    return JsonFormatter() if settings.log_format == "json" else logging.Formatter(TEXT_FORMAT)


def configure_logging(settings: Settings) -> None:
    """INFO and above of every logger to standard error, in the configured format, unless the
    program running the command set up logging itself (a test runner, an embedding script)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter_for(settings))
    logging.basicConfig(level=logging.INFO, handlers=[handler])
