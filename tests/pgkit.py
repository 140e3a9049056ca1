"""A throwaway PostgreSQL cluster on loopback (Debian's initdb and pg_ctl), for the tests that
stop and start the database under a running app: the machine's shared server is never
touched. Run as the ``postgres`` user when the tests run as root (initdb refuses root)."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from smtpkit import free_port


def _bin_dir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


class Cluster:
    """``initdb`` in a private folder, then :meth:`start` / :meth:`stop` at will."""

    def __init__(self) -> None:
        bin_dir = _bin_dir()
        if bin_dir is None:
            reason = "no initdb/pg_ctl (Debian's postgresql package) on this machine"
            if os.environ.get("CI"):
                pytest.fail(f"{reason} (CI is set, so the PostgreSQL fault tests must run)")
            pytest.skip(reason)
        self.bin = bin_dir
        self.root = Path(tempfile.mkdtemp(prefix="dossiersco-pg-"))
        self.user: list[str] = []
        if os.geteuid() == 0:
            owner = pwd.getpwnam("postgres")
            os.chown(self.root, owner.pw_uid, owner.pw_gid)
            self.user = ["runuser", "-u", "postgres", "--"]
        self.data = self.root / "data"
        self.port = free_port()
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8",
                  "--no-sync", "--no-instructions")

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, tool: str, *args: str) -> None:
        done = subprocess.run([*self.user, str(self.bin / tool), *args], capture_output=True,
                              text=True, timeout=120)
        assert done.returncode == 0, f"{tool}: {done.stdout}{done.stderr}"

    def start(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.root / "log"), "-w", "-t", "60",
                  "-o", f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.root} "
                        "-c fsync=off", "start")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "-t", "60", "stop")

    def remove(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self.stop()
        shutil.rmtree(self.root, ignore_errors=True)
