"""Connections of the embedded server: 200 families' browsers at once on ``dossiersco serve``.

Each simulated browser keeps one keep-alive connection open (a browser keeps several; the
families' think time leaves them idle), asks for the login page every second, ``ROUNDS``
times. What is measured: whether every browser is served, the longest wait for a first answer,
and the answer times. Run, from the repository root (figures in docs/performance.md)::

    PYTHONPATH=$PWD python tests/benchmarks/bench_serve_capacity.py [--connection-limit 100]

Not a pytest benchmark: it starts a real server and takes about a minute.
"""

from __future__ import annotations

import argparse
import http.client
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from serving.serverkit import ADDRESS  # noqa: E402

BROWSERS = 200
ROUNDS = 10
THINK = 1.0


def _browser(host: str, port: int, times: list[float], first: list[float],
             errors: list[str]) -> None:
    started = time.perf_counter()
    try:
        conn = http.client.HTTPConnection(host, port, timeout=120)
        for n in range(ROUNDS):
            t0 = time.perf_counter()
            conn.request("GET", "/connexion")
            response = conn.getresponse()
            response.read()
            if response.status != 200:
                errors.append(str(response.status))
            times.append(time.perf_counter() - t0)
            if n == 0:
                first.append(time.perf_counter() - started)
            time.sleep(THINK)
        conn.close()
    except OSError as exc:
        errors.append(type(exc).__name__)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--connection-limit", default=None)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp())
    command = [sys.executable, "-m", "engine.cli", "serve", "--port", "0"]
    if args.connection_limit:
        command += ["--connection-limit", args.connection_limit]
    env = {**os.environ, "DOSSIERSCO_INSTANCE_DIR": str(folder)}
    server = subprocess.Popen(command, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, text=True)
    assert server.stdout is not None
    found = ADDRESS.search(server.stdout.readline())
    assert found
    parts = urlsplit(found.group(1))
    times: list[float] = []
    first: list[float] = []
    errors: list[str] = []
    threads = [threading.Thread(target=_browser, args=(parts.hostname, parts.port, times,
                                                       first, errors)) for _ in range(BROWSERS)]
    for thread in threads:  # 20 a second, as the measurement of issue 15
        thread.start()
        time.sleep(0.05)
    for thread in threads:
        thread.join()
    server.terminate()
    server.wait()
    times.sort()
    print(f"connection limit {args.connection_limit or 'default'}: {len(first)}/{BROWSERS} "
          f"browsers served, {len(errors)} errors; longest wait for a first answer "
          f"{max(first):.1f} s; answers p50 {statistics.median(times) * 1000:.0f} ms, "
          f"p95 {times[int(len(times) * 0.95)] * 1000:.0f} ms")


if __name__ == "__main__":
    main()
