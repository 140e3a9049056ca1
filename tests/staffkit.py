"""What staff tests share: an agent made by the ``make_staff`` fixture and what they know."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pyotp

from engine.db import utcnow
from engine.dossiers.models import StaffAccount

STAFF_PASSWORD = "Correct-Horse-42"


@dataclass(frozen=True)
class StaffUser:
    """A staff account made by :func:`make_staff`, with what its owner knows."""

    account: StaffAccount
    password: str
    totp_secret: str | None

    def totp(self, at: datetime | None = None) -> str:
        assert self.totp_secret is not None
        return pyotp.TOTP(self.totp_secret).at(at or utcnow())


