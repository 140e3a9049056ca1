"""Slow clients (issue 11, item 7): connections trickling a body at one byte a second hold a
connection slot each, never a thread, and the embedded server has slots to spare: a normal
request is answered while they are still sending."""

from __future__ import annotations

import socket
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

from .serverkit import serve

#: more than waitress's default connection limit (100), which they used to exhaust
SLOW_CLIENTS = 150
DECLARED_BODY = 100_000


@contextmanager
def _trickling(url: str, count: int) -> Iterator[list[socket.socket]]:
    """``count`` connections announcing a 100 kB login form, then sending 1 byte a second."""
    parts = urlsplit(url)
    sockets = []
    for _ in range(count):
        conn = socket.create_connection((parts.hostname, parts.port), timeout=10)
        conn.sendall(f"POST /connexion HTTP/1.1\r\nHost: {parts.netloc}\r\n"
                     "Content-Type: application/x-www-form-urlencoded\r\n"
                     f"Content-Length: {DECLARED_BODY}\r\n\r\n".encode("ascii"))
        sockets.append(conn)
    stop = threading.Event()

    def trickle() -> None:
        while not stop.wait(1.0):
            for conn in sockets:
                try:
                    conn.sendall(b"a")
                except OSError:
                    pass

    sender = threading.Thread(target=trickle, daemon=True)
    sender.start()
    try:
        yield sockets
    finally:
        stop.set()
        sender.join()
        for conn in sockets:
            conn.close()


def test_slow_clients_do_not_starve_a_normal_request(tmp_path: Path) -> None:
    env = {"DOSSIERSCO_INSTANCE_DIR": str(tmp_path / "instance"),
           "DOSSIERSCO_DATABASE_URL": f"sqlite:///{tmp_path / 'dossiersco.sqlite3'}"}
    with serve(env, "--threads", "4") as served, _trickling(served.url, SLOW_CLIENTS) as slow:
        time.sleep(2)  # every slow connection accepted and sending
        # each slow client has sent a few bytes of its 100 000: all of them are far from done
        with urllib.request.urlopen(served.url + "connexion", timeout=30) as response:
            assert response.status == 200
            assert "<h1>Connexion</h1>" in response.read().decode()
        # the slow clients are still connected, still unanswered
        waiting = 0
        for conn in slow:
            conn.setblocking(False)
            try:
                conn.recv(1)  # an answer, or b"" for a closed connection
            except BlockingIOError:
                waiting += 1  # nothing to read: still sending its body, as it should
        assert waiting == SLOW_CLIENTS
        returncode, _out, err = served.stop()
    assert returncode == 0, err[-2000:]
