"""The registry of message kinds (issue 16 item 3): the delivery code knows the kinds
only through procedures/notifications/kinds.py, the dialogues app plugs its own in, and
a kind nobody registered is refused with a clear error."""

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.template.loader import get_template

from dialogues.constants import ReminderKind
from procedures.models import Delivery, DeliveryChannel, DeliveryStatus
from procedures.notifications import kinds
from procedures.notifications.delivery import Outcome, delivery_send
from procedures.notifications.services import delivery_queue

from .conftest import at

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "procedures" / "notifications"


def _imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_no_module_of_the_notifications_package_imports_dialogues():
    """Imports inside functions count too (the old delivery code hid two there)."""
    modules = sorted(PACKAGE.glob("*.py"))
    assert len(modules) >= 8
    offenders = {
        path.name: sorted(m for m in _imported_modules(path) if m.split(".")[0] == "dialogues")
        for path in modules
    }
    assert {name: found for name, found in offenders.items() if found} == {}


def test_the_notifications_package_loads_without_the_dialogues_app():
    """With dialogues out of INSTALLED_APPS the package imports, and dialogue kinds are
    simply unknown there."""
    script = """
import sys
from django.conf import settings
settings.INSTALLED_APPS = [a for a in settings.INSTALLED_APPS if a != "dialogues"]
import django
django.setup()
import procedures.notifications.admin, procedures.notifications.delivery
import procedures.notifications.reminders, procedures.notifications.scheduling
import procedures.notifications.services, procedures.notifications.tasks
from procedures.notifications import kinds
loaded = sorted(m for m in sys.modules if m.split(".")[0] == "dialogues")
try:
    kinds.get_kind("dialogue.promotion")
    known = "known"
except kinds.UnknownMessageKind:
    known = "unknown"
print(loaded, known, kinds.get_kind("applicant.accepted").key)
"""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "PYTHONPATH": str(ROOT),
    }
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[] unknown applicant.accepted"


def test_the_dialogues_app_registers_each_of_its_kinds():
    for kind in ReminderKind:
        entry = kinds.get_kind(kind)
        assert (entry.audience, entry.channels) == (
            kinds.Audience.ADDRESSES,
            (DeliveryChannel.EMAIL,),
        )


def test_every_kind_sent_alone_has_its_two_templates():
    rendered = kinds.Audience.ADDRESSES, kinds.Audience.STAFF
    sent_alone = [k for k in kinds.registered_kinds() if k.sent_alone and k.audience in rendered]
    assert len(sent_alone) == 7 + 3 + 1 + len(ReminderKind)
    for kind in sent_alone:
        get_template(f"{kind.template}_subject.txt")
        get_template(f"{kind.template}.txt")


@pytest.mark.django_db
def test_an_unknown_kind_is_refused_when_queued():
    with pytest.raises(kinds.UnknownMessageKind) as refused:
        delivery_queue(
            kind="applicant.no_such_kind", recipient="a@example.com", subject_key="t", payload={}
        )
    assert str(refused.value).startswith(
        "unknown message kind 'applicant.no_such_kind': register it with "
        "procedures.notifications.kinds.register() (known kinds: applicant.accepted, "
    )
    assert not Delivery.objects.exists()


@pytest.mark.django_db
def test_a_kind_is_refused_on_a_channel_it_does_not_use():
    with pytest.raises(ValueError, match="'applicant.accepted' is not sent by 'in_app'"):
        delivery_queue(
            kind="applicant.accepted",
            recipient="user:1",
            channel=DeliveryChannel.IN_APP,
            subject_key="t",
            payload={},
        )
    assert not Delivery.objects.exists()


@pytest.mark.django_db
def test_a_row_that_holds_an_unknown_kind_fails_with_the_reason():
    """A row written before its kind was withdrawn is not retried for ever."""
    row = Delivery.objects.create(kind="gone.kind", recipient="a@example.com", subject_key="t")
    assert delivery_send(delivery_id=row.pk, now=at(2026, 6, 1, 9)) == Outcome.FAILED
    row.refresh_from_db()
    assert row.status == DeliveryStatus.FAILED
    assert "UnknownMessageKind: unknown message kind 'gone.kind'" in row.last_error


def test_one_key_cannot_name_two_different_kinds():
    with pytest.raises(ValueError, match="'staff.assigned' is registered twice"):
        kinds.register(kinds.MessageKind("staff.assigned", kinds.Audience.ADDRESSES))
    assert kinds.get_kind("staff.assigned").audience == kinds.Audience.STAFF


def test_a_digest_item_is_not_rendered_alone():
    with pytest.raises(ValueError, match="reminder.overdue rides in a digest"):
        kinds.get_kind("reminder.overdue").render(Delivery(kind="reminder.overdue"))


def test_the_national_sync_is_a_service_kind_on_its_own_channel():
    """Its rows are sent by national_sync.py, never rendered from a template."""
    from procedures.models import DeliveryChannel
    from procedures.notifications import national_sync

    kind = kinds.get_kind(national_sync.KIND)
    assert kind.audience == kinds.Audience.SERVICE
    assert kind.channels == (DeliveryChannel.NATIONAL,)
    assert kind.recipients(addresses=["a@example.com"]) == []
    assert DeliveryChannel.SMS in kinds.get_kind("applicant.accepted").channels
