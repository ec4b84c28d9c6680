"""Is mail going out? `manage.py celery_healthcheck` exits 0 when healthy, 1 when not.

Checks, in order: the broker answers; at least one worker answers a ping; the outbox
has no message waiting longer than DELIVERY_BACKLOG_ALERT_MINUTES (which also catches
a stopped beat, since beat runs the drain); failed messages are reported, not fatal.
Suitable for a container or systemd health probe of the worker.
"""
from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db.models import Count, Min
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from config.celery_app import app
from procedures.models import Delivery, DeliveryStatus


class Command(BaseCommand):
    help = _("Check the broker, the workers and the outbox backlog; exit 1 if unhealthy.")

    def add_arguments(self, parser):
        parser.add_argument("--timeout", type=float, default=3.0,
                            help=_("Seconds to wait for the broker and the workers."))
        parser.add_argument("--skip-workers", action="store_true",
                            help=_("Only check the broker and the outbox."))

    def handle(self, *args, **options):
        problems = []
        timeout = options["timeout"]
        broker = app.conf.broker_url or ""
        try:
            with app.connection_for_write() as conn:
                conn.ensure_connection(max_retries=1, timeout=timeout)
            self.stdout.write(_("broker: ok"))
        except Exception as exc:  # noqa: BLE001 - reported as the result of the check
            problems.append(_("broker unreachable: %(error)s") % {"error": exc})
        if not options["skip_workers"] and not problems:
            if broker.startswith("filesystem://"):
                self.stdout.write(_("workers: not checked (the filesystem broker has no "
                                    "remote control)"))
            else:
                replies = app.control.ping(timeout=timeout)
                if replies:
                    names = ", ".join(sorted(name for reply in replies for name in reply))
                    self.stdout.write(_("workers: %(names)s") % {"names": names})
                else:
                    problems.append(_("no worker answered within %(s)s s") % {"s": timeout})
        now = timezone.now()
        limit = now - timedelta(minutes=settings.DELIVERY_BACKLOG_ALERT_MINUTES)
        # A pending row is due at next_attempt_at, or when queued if never tried.
        waiting = Delivery.objects.filter(status=DeliveryStatus.PENDING).annotate(
            due=Coalesce("next_attempt_at", "created_at")).filter(due__lt=limit)
        stats = waiting.aggregate(oldest=Min("due"), late=Count("id"))
        late = stats["late"]
        if late:
            problems.append(_("%(n)s message(s) waiting since %(t)s: is the worker or beat "
                              "running?") % {"n": late, "t": timezone.localtime(
                                  stats["oldest"]).strftime("%H:%M %d/%m/%Y")})
        else:
            self.stdout.write(_("outbox: no message waiting longer than %(m)s min")
                              % {"m": settings.DELIVERY_BACKLOG_ALERT_MINUTES})
        failed = Delivery.objects.filter(status=DeliveryStatus.FAILED).count()
        if failed:
            self.stdout.write(self.style.WARNING(
                _("%(n)s failed message(s): see Deliveries in the admin") % {"n": failed}))
        if problems:
            raise CommandError("; ".join(str(p) for p in problems), returncode=1)
        self.stdout.write(self.style.SUCCESS(_("healthy")))
