"""Throw-away servers for the tests that stop or freeze them, and stand-in HTTP peers."""

import json
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def redis_server(port: int) -> subprocess.Popen:
    """A redis-server on 127.0.0.1:`port` that keeps nothing on disk."""
    return subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1"]
        + ["--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def redis_server_needed() -> None:
    """Skip the calling test when redis-server is not installed (fail under
    REQUIRE_SERVICES=1, as CI runs)."""
    import pytest
    from django.conf import settings

    if not shutil.which("redis-server"):
        if getattr(settings, "REQUIRE_SERVICES", False):
            pytest.fail("redis-server is required (REQUIRE_SERVICES=1)")
        pytest.skip("redis-server not installed")


def redis_server_answering(url: str, proc: subprocess.Popen, timeout: float = 10) -> None:
    """Wait until the server at `url` answers PING; kill it and raise if it never does."""
    import redis

    deadline = time.monotonic() + timeout
    while True:
        try:
            redis.Redis.from_url(url, socket_connect_timeout=0.2).ping()
            return
        except redis.RedisError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                raise
            time.sleep(0.05)


def celery_point_at(url: str | None, eager: bool) -> None:
    """Point the Celery app at broker `url` (None: keep it), eager or not, forgetting
    every connection to the previous broker: kombu's global pools, the app's producer
    pool, and the connection kept for enqueueing after a commit."""
    from kombu import pools

    from config.celery_app import app
    from procedures.notifications import services

    # The app reads Django settings with the CELERY_ namespace, so the keys carry it.
    app.conf.CELERY_TASK_ALWAYS_EAGER = eager
    if url is not None:
        app.conf.CELERY_BROKER_URL = url
    pools.reset()
    app._pool = None
    app.amqp._producer_pool = None
    services._broker_forget(close=True)


class StandInPeer:
    """A stand-in HTTP service in a thread (the SMS gateway, the national portal):
    records each POST (path, headers, JSON body) and answers the statuses queued in
    `statuses` (200 when none) with `reply(status)` as the body."""

    def __init__(self, *, path: str = "/", reply: Callable[[int], bytes] = lambda s: b"{}"):
        self.requests: list[dict] = []
        self.statuses: list[int] = []
        peer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                peer.requests.append(
                    {"path": self.path, "headers": dict(self.headers), "json": json.loads(body)}
                )
                status = peer.statuses.pop(0) if peer.statuses else 200
                answer = reply(status)
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):  # keep the test output quiet
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}{path}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
