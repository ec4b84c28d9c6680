"""Throw-away servers for the tests that stop or freeze them, and stand-in HTTP peers."""

import json
import socket
import subprocess
import threading
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
