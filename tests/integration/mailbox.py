"""Email backend for the integration tests: one file per message, named by delivery.

Files let the test process count what a worker process sent. Two knobs, read from
the environment of the worker:
- TEST_MAIL_DELAY: seconds each message takes (a slow mail server), so a batch is
  still running when the test kills the worker;
- TEST_MAIL_BLOCK_AT: the n-th message of this process hangs before it is written
  (a mail server that stops answering mid-conversation) after leaving a
  ``blocked-<pid>`` marker, so the test kills the worker at a known point;
- TEST_MAIL_PAUSE_BROKER_AT: after the n-th message of this process is written, Redis
  pauses every client for TEST_MAIL_PAUSE_SECONDS (CLIENT PAUSE): the worker's late
  acknowledgement of the task that sent it then times out ("Couldn't ack").
"""

import os
import time
import uuid
from pathlib import Path

from django.conf import settings
from django.core.mail.backends.base import BaseEmailBackend

_sent_by_this_process = 0


class FileCountingBackend(BaseEmailBackend):
    def send_messages(self, messages):
        global _sent_by_this_process
        folder = Path(settings.EMAIL_FILE_PATH)
        folder.mkdir(parents=True, exist_ok=True)
        delay = float(os.environ.get("TEST_MAIL_DELAY", "0") or 0)
        block_at = int(os.environ.get("TEST_MAIL_BLOCK_AT", "0") or 0)
        pause_at = int(os.environ.get("TEST_MAIL_PAUSE_BROKER_AT", "0") or 0)
        for message in messages:
            _sent_by_this_process += 1
            if block_at and _sent_by_this_process == block_at:
                (folder / f"blocked-{os.getpid()}").write_text(
                    message.extra_headers.get("X-Motcua-Delivery", "")
                )
                time.sleep(3600)
            if delay:
                time.sleep(delay)
            delivery = message.extra_headers.get("X-Motcua-Delivery", "none")
            name = f"{delivery}-{uuid.uuid4().hex}.eml"
            # Written whole then renamed, so the test never counts half a message.
            tmp = folder / f".{name}"
            tmp.write_bytes(message.message().as_bytes())
            tmp.rename(folder / name)
            if pause_at and _sent_by_this_process == pause_at:
                _broker_pause(float(os.environ.get("TEST_MAIL_PAUSE_SECONDS", "4")))
        return len(messages)


def _broker_pause(seconds: float) -> None:
    import redis

    client = redis.Redis.from_url(settings.REDIS_URL)
    client.execute_command("CLIENT", "PAUSE", int(seconds * 1000), "ALL")
    client.close()
