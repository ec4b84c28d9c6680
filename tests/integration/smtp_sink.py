"""An SMTP server for the fault tests (aiosmtpd), run as its own process so a test can
stop it (SIGTERM: connection refused) or make it answer 451 (a file `mode` holding
"451" in its folder: "try again later" to every message, as a full or rate-limited
mail server does).

Accepted messages are written one file each, named by the X-Motcua-Delivery header
like tests/integration/mailbox.py, so `Mailbox` counts them.

    python -m tests.integration.smtp_sink --port 2525 --folder /tmp/mail
"""

import argparse
import email
import signal
import threading
import uuid
from pathlib import Path

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self, folder: Path):
        self.folder = folder

    async def handle_DATA(self, server, session, envelope):
        mode = self.folder / "mode"
        if mode.exists() and mode.read_text().strip() == "451":
            return "451 4.3.0 Mail server busy, try again later"
        message = email.message_from_bytes(envelope.original_content or envelope.content)
        name = f"{message.get('X-Motcua-Delivery', 'none')}-{uuid.uuid4().hex}.eml"
        tmp = self.folder / f".{name}"
        tmp.write_bytes(envelope.original_content or envelope.content)
        tmp.rename(self.folder / name)  # whole files only
        return "250 OK"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--folder", type=Path, required=True)
    args = parser.parse_args()
    args.folder.mkdir(parents=True, exist_ok=True)
    controller = Controller(Sink(args.folder), hostname="127.0.0.1", port=args.port)
    controller.start()
    (args.folder / ".ready").write_text("ok")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *a: stop.set())
    signal.signal(signal.SIGINT, lambda *a: stop.set())
    stop.wait()
    controller.stop()


if __name__ == "__main__":
    main()
