"""Is mail going out? `manage.py celery_healthcheck` exits 0 when healthy, 1 when not.

Checks, in order: the broker answers; at least one worker answers a ping; the outbox
has no message waiting longer than DELIVERY_BACKLOG_ALERT_MINUTES (which also catches
a stopped beat, since beat runs the drain); no message has been failing at the mail
server for longer than DELIVERY_FAILING_ALERT_MINUTES (retrying, or given up after
every attempt); no message is held by a worker that stopped. A message refused for
good at its first attempt (a wrong address) is reported, not fatal: it is for staff
to fix in the admin, not a reason to restart a worker.

It answers within its own time: the broker is reached with socket timeouts of
`--timeout` seconds, and the whole check is cut off after twice that (a frozen Redis
keeps TCP connections open and never answers). Suitable for a container or systemd
health probe of the worker.
"""

import signal
import threading
from contextlib import contextmanager
from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db.models import Count, Min, Q
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from config.celery_app import app
from procedures.models import Delivery, DeliveryStatus


class CheckTimedOut(Exception):
    pass


@contextmanager
def _deadline(seconds: float):
    """Interrupt whatever blocks (a socket read included) after `seconds`."""
    if threading.current_thread() is not threading.main_thread():
        yield  # signals only reach the main thread; the socket timeouts still apply
        return

    def expired(signum, frame):
        raise CheckTimedOut

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


class Command(BaseCommand):
    help = _("Check the broker, the workers and the outbox backlog; exit 1 if unhealthy.")

    def add_arguments(self, parser):
        parser.add_argument(
            "--timeout",
            type=float,
            default=3.0,
            help=_("Seconds to wait for the broker and the workers."),
        )
        parser.add_argument(
            "--skip-workers", action="store_true", help=_("Only check the broker and the outbox.")
        )

    def handle(self, *args, **options):
        timeout = options["timeout"]
        problems = []
        try:
            with _deadline(2 * timeout):
                self._broker_and_workers(problems, timeout, options["skip_workers"])
        except CheckTimedOut:
            problems.append(_("the broker did not answer within %(s)s s") % {"s": 2 * timeout})
        self._outbox(problems)
        if problems:
            raise CommandError("; ".join(str(p) for p in problems), returncode=1)
        self.stdout.write(self.style.SUCCESS(_("healthy")))

    def _broker_and_workers(self, problems: list, timeout: float, skip_workers: bool) -> None:
        broker = app.conf.broker_url or ""
        conn = app.connection_for_write(
            connect_timeout=timeout,
            transport_options={
                "socket_timeout": timeout,
                "socket_connect_timeout": timeout,
                "max_retries": 0,
            },
        )
        try:
            try:
                conn.ensure_connection(max_retries=1, timeout=timeout)
                conn.default_channel  # noqa: B018 - opening the channel talks to the server
                self.stdout.write(_("broker: ok"))
            except CheckTimedOut:
                raise
            except Exception as exc:  # noqa: BLE001 - reported as the result of the check
                problems.append(_("broker unreachable: %(error)s") % {"error": exc})
                return
            if skip_workers:
                return
            if broker.startswith("filesystem://"):
                self.stdout.write(
                    _("workers: not checked (the filesystem broker has no remote control)")
                )
                return
            replies = app.control.ping(timeout=timeout, connection=conn)
            if replies:
                names = ", ".join(sorted(name for reply in replies for name in reply))
                self.stdout.write(_("workers: %(names)s") % {"names": names})
            else:
                problems.append(_("no worker answered within %(s)s s") % {"s": timeout})
        finally:
            conn.release()

    def _outbox(self, problems: list) -> None:
        now = timezone.now()
        limit = now - timedelta(minutes=settings.DELIVERY_BACKLOG_ALERT_MINUTES)
        # A pending row is due at next_attempt_at, or when queued if never tried.
        waiting = (
            Delivery.objects.filter(status=DeliveryStatus.PENDING)
            .annotate(due=Coalesce("next_attempt_at", "created_at"))
            .filter(due__lt=limit)
        )
        stats = waiting.aggregate(oldest=Min("due"), late=Count("id"))
        if stats["late"]:
            problems.append(
                _("%(n)s message(s) waiting since %(t)s: is the worker or beat running?")
                % {
                    "n": stats["late"],
                    "t": timezone.localtime(stats["oldest"]).strftime("%H:%M %d/%m/%Y"),
                }
            )
        else:
            self.stdout.write(
                _("outbox: no message waiting longer than %(m)s min")
                % {"m": settings.DELIVERY_BACKLOG_ALERT_MINUTES}
            )
        failing_since = now - timedelta(minutes=settings.DELIVERY_FAILING_ALERT_MINUTES)
        failing = Delivery.objects.filter(
            Q(status=DeliveryStatus.PENDING, attempts__gt=0)
            | Q(status=DeliveryStatus.FAILED, attempts__gte=settings.DELIVERY_MAX_ATTEMPTS),
            created_at__lt=failing_since,
        ).aggregate(n=Count("id"), oldest=Min("created_at"))
        if failing["n"]:
            problems.append(
                _(
                    "%(n)s message(s) failing at the mail server since %(t)s: see "
                    "Deliveries in the admin"
                )
                % {
                    "n": failing["n"],
                    "t": timezone.localtime(failing["oldest"]).strftime("%H:%M %d/%m/%Y"),
                }
            )
        stuck = Delivery.objects.filter(
            status=DeliveryStatus.SENDING,
            claimed_at__lt=now - timedelta(seconds=settings.DELIVERY_CLAIM_TIMEOUT),
        ).count()
        if stuck:
            problems.append(
                _(
                    "%(n)s message(s) held by a worker that stopped while sending "
                    "(the drain takes them over)"
                )
                % {"n": stuck}
            )
        failed = Delivery.objects.filter(status=DeliveryStatus.FAILED).count()
        if failed:
            self.stdout.write(
                self.style.WARNING(
                    _("%(n)s failed message(s): see Deliveries in the admin") % {"n": failed}
                )
            )
