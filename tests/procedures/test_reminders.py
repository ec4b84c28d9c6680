"""The deadline reminder sweep: windows, digests, exactly once, and its query cost.

Working time 07:00-11:30 and 13:30-17:00. 1 June 2026 is a Monday. Tết 2026: off
Saturday 14 to Sunday 22 February. Saturday 22 August 2026 is a worked Saturday
(swapped for Monday 31 August).
"""

import datetime
from decimal import Decimal

import pytest
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from procedures.calendar import working_time as calendar
from procedures.core.constants import Channel
from procedures.dossiers import services as svc
from procedures.models import (
    CalendarOverride,
    Delivery,
    DeliveryChannel,
    DeliveryStatus,
)
from procedures.notifications.reminders import reminders_plan, reminders_sweep
from procedures.notifications.selectors import reminder_windows, working_moment_before

from .conftest import at

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("staff_in_english")]


MONDAY_10 = at(2026, 6, 1, 10, 0)


def processing(
    register,
    staff,
    units,
    *,
    accepted=MONDAY_10,
    channel=Channel.DIRECT,
    officer="specialist",
    unit="QLTM",
):
    d = register(now=accepted, channel=channel)
    d = svc.dossier_accept(dossier=d, actor=staff["intake"], now=accepted)
    return svc.dossier_assign(
        dossier=d,
        actor=staff["intake"],
        unit=units[unit],
        officer=staff[officer] if officer else None,
        now=accepted,
    )


def finish_steps(d, staff, now):
    """Hand over every open step so only the dossier's own deadline remains."""
    d.steps.update(completed_at=now, started_at=now)


def sweep(now, capture, **kw):
    mail.outbox.clear()
    with capture(execute=True):
        result = reminders_sweep(now=now, **kw)
    return result


def mail_to(address):
    return [m for m in mail.outbox if m.to == [address]]


# ------------------------------------------------------------------ windows and clock


@pytest.mark.parametrize(
    ("now", "soon_end", "cutoff"),
    [
        # Monday morning: the next working day is Tuesday; 1 working day back is Friday.
        (at(2026, 6, 1, 7, 30), at(2026, 6, 2, 17, 0), at(2026, 5, 29, 7, 30)),
        # After the lunch break; 4.5 h into Friday is 11:30 (the same working moment as
        # 13:30: like due times, it stays at the closing time).
        (at(2026, 6, 1, 13, 30), at(2026, 6, 2, 17, 0), at(2026, 5, 29, 11, 30)),
        # Friday: the next working day is Monday, over the weekend.
        (at(2026, 6, 5, 7, 30), at(2026, 6, 8, 17, 0), at(2026, 6, 4, 7, 30)),
        # Before opening: a whole working day back is the previous opening.
        (at(2026, 6, 1, 6, 0), at(2026, 6, 2, 17, 0), at(2026, 5, 29, 7, 0)),
        # The last working day before Tết: next is Monday 23 February, nine days later.
        (at(2026, 2, 13, 7, 30), at(2026, 2, 23, 17, 0), at(2026, 2, 12, 7, 30)),
        # The first working day after Tết: one working day back is before the break.
        (at(2026, 2, 23, 13, 30), at(2026, 2, 24, 17, 0), at(2026, 2, 13, 11, 30)),
    ],
)
def test_reminder_windows_follow_office_hours_weekends_and_tet(now, soon_end, cutoff):
    w = reminder_windows(now=now)
    assert w.soon_end == soon_end
    assert w.intake_cutoff == cutoff
    assert w.today_end == datetime.datetime.combine(
        now.date() + datetime.timedelta(days=1), datetime.time(0), tzinfo=now.tzinfo
    )


@pytest.mark.parametrize(
    "moment",
    [
        at(2026, 6, 1, 10, 0),
        at(2026, 6, 1, 16, 59),
        at(2026, 6, 8, 7, 0),
        at(2026, 2, 23, 9, 15),
        at(2026, 6, 3, 11, 30),
    ],
)
@pytest.mark.parametrize("hours", [1, 4, 8, 13, 40])
def test_working_moment_before_is_the_inverse_of_adding(moment, hours):
    earlier = working_moment_before(moment, hours * 3600)
    assert calendar.working_seconds_between(earlier, moment) == hours * 3600


# ------------------------------------------------------------------ what goes in a digest


def test_officer_digest_lists_due_soon_with_the_apology_deadline(
    register, staff, units, django_capture_on_commit_callbacks
):
    d = processing(register, staff, units)  # due Monday 8 June 10:00
    finish_steps(d, staff, at(2026, 6, 1, 10, 0))
    assert d.due_at == at(2026, 6, 8, 10, 0)
    # Thursday: Monday is not yet the next working day.
    sweep(at(2026, 6, 4, 7, 30), django_capture_on_commit_callbacks)
    assert mail_to("specialist@example.gov.vn") == []
    sweep(at(2026, 6, 5, 7, 30), django_capture_on_commit_callbacks)
    [message] = mail_to("specialist@example.gov.vn")
    assert "0 overdue, 0 due today, 1 due soon" in message.subject
    assert d.code in message.body
    assert "due 10:00 08/06/2026" in message.body
    # 1 working day before Monday 10:00 is Friday 10:00.
    assert "apology possible until 10:00 05/06/2026" in message.body
    assert "at least 1 working day before the due time" in message.body
    assert message.extra_headers["Message-ID"].startswith("<motcua.delivery.")


def test_due_today_then_overdue_and_overdue_repeats_once_a_day(
    register, staff, units, django_capture_on_commit_callbacks
):
    d = processing(register, staff, units)
    finish_steps(d, staff, at(2026, 6, 1, 10, 0))
    sweep(at(2026, 6, 8, 7, 30), django_capture_on_commit_callbacks)
    [message] = mail_to("specialist@example.gov.vn")
    assert "DUE TODAY" in message.body and "OVERDUE" not in message.body.replace("OVERDUE IN", "")
    sweep(at(2026, 6, 8, 13, 30), django_capture_on_commit_callbacks)
    [message] = mail_to("specialist@example.gov.vn")
    assert "1 overdue" in message.subject
    assert "was due 10:00 08/06/2026" in message.body
    # The same afternoon again: nothing new.
    sweep(at(2026, 6, 8, 16, 0), django_capture_on_commit_callbacks)
    assert mail_to("specialist@example.gov.vn") == []
    # Next working day: overdue again, once.
    sweep(at(2026, 6, 9, 7, 30), django_capture_on_commit_callbacks)
    assert len(mail_to("specialist@example.gov.vn")) == 1


def test_due_soon_across_tet_is_reminded_before_the_break(
    register, staff, units, django_capture_on_commit_callbacks
):
    # Online: 3 working days from Wednesday 11 February: Thu 12, Fri 13, then Mon 23.
    d = processing(register, staff, units, accepted=at(2026, 2, 11, 10, 0), channel=Channel.ONLINE)
    finish_steps(d, staff, at(2026, 2, 11, 10, 0))
    assert d.due_at == at(2026, 2, 23, 10, 0)
    sweep(at(2026, 2, 13, 7, 30), django_capture_on_commit_callbacks)
    [message] = mail_to("specialist@example.gov.vn")
    assert "due 10:00 23/02/2026" in message.body
    assert "apology possible until 10:00 13/02/2026" in message.body
    # During Tết the sweep does not run at all.
    result = sweep(at(2026, 2, 17, 7, 30), django_capture_on_commit_callbacks)
    assert result.skipped and mail.outbox == []
    sweep(at(2026, 2, 23, 7, 30), django_capture_on_commit_callbacks)
    [message] = mail_to("specialist@example.gov.vn")
    assert "1 due today" in message.subject


def test_no_sweep_on_weekends_but_on_worked_saturdays_and_overrides(
    register, staff, units, django_capture_on_commit_callbacks
):
    processing(register, staff, units)
    assert sweep(at(2026, 6, 6, 7, 30), django_capture_on_commit_callbacks).skipped
    assert not Delivery.objects.filter(kind="staff.digest").exists()
    # Saturday 22 August 2026 is worked (swapped for Monday 31 August).
    assert not sweep(at(2026, 8, 22, 7, 30), django_capture_on_commit_callbacks).skipped
    assert sweep(at(2026, 8, 31, 7, 30), django_capture_on_commit_callbacks).skipped
    # A department decision the package does not know yet wins.
    CalendarOverride.objects.create(
        date=datetime.date(2026, 6, 12), is_working=False, reason="Provincial holiday"
    )
    assert sweep(at(2026, 6, 12, 7, 30), django_capture_on_commit_callbacks).skipped
    assert not sweep(at(2026, 6, 13, 7, 30), django_capture_on_commit_callbacks, force=True).skipped


def test_changed_due_time_allows_a_new_reminder(
    register, staff, units, django_capture_on_commit_callbacks
):
    d = processing(register, staff, units)
    finish_steps(d, staff, at(2026, 6, 1, 10, 0))
    sweep(at(2026, 6, 5, 7, 30), django_capture_on_commit_callbacks)
    assert len(mail_to("specialist@example.gov.vn")) == 1
    d = svc.dossier_apologise(
        dossier=d,
        actor=staff["unit_head"],
        new_due_at=at(2026, 6, 9, 10, 0),
        reason="Cần xác minh thực địa",
        now=at(2026, 6, 5, 8, 0),
    )
    # Same due-soon window, new deadline version: but 9 June is not yet the next working day.
    sweep(at(2026, 6, 5, 13, 30), django_capture_on_commit_callbacks)
    assert mail_to("specialist@example.gov.vn") == []
    sweep(at(2026, 6, 8, 7, 30), django_capture_on_commit_callbacks)
    [message] = mail_to("specialist@example.gov.vn")
    assert "due 10:00 09/06/2026" in message.body
    assert "already re-appointed once" in message.body
    # One ledger per person, whatever the channels of their digests.
    keys = set(
        Delivery.objects.filter(kind="reminder.due_soon").values_list(
            "recipient", "channel", "subject_key"
        )
    )
    assert {(r, c) for r, c, _key in keys} == {
        (f"user:{staff['specialist'].pk}", DeliveryChannel.ITEM)
    }
    assert {key for _r, _c, key in keys} == {
        f"dossier:{d.pk}:due_soon:{int(at(2026, 6, 8, 10, 0).timestamp())}",
        f"dossier:{d.pk}:due_soon:{int(at(2026, 6, 9, 10, 0).timestamp())}",
    }


def test_steps_go_to_who_holds_them(register, staff, units, django_capture_on_commit_callbacks):
    # Accepted but not yet transferred (the transfer would end the desk's step).
    d = register(now=at(2026, 6, 1, 10, 0))
    svc.dossier_accept(dossier=d, actor=staff["intake"], now=at(2026, 6, 1, 10, 0))
    # Step 1 (desk, 4 h) was due Monday 1 June 16:00; the desk officer who accepted
    # the dossier hears about it, the specialist does not.
    sweep(at(2026, 6, 2, 7, 30), django_capture_on_commit_callbacks)
    [message] = mail_to("intake@example.gov.vn")
    assert "step 1 “Tiếp nhận, chuyển hồ sơ”" in message.body
    assert "was due 16:00 01/06/2026" in message.body
    assert mail_to("specialist@example.gov.vn") == []


def test_awaiting_intake_more_than_one_working_day_goes_to_the_desk(
    register, staff, units, django_capture_on_commit_callbacks
):
    online = register(now=at(2026, 5, 28, 16, 0), channel=Channel.ONLINE)  # Thursday
    register(now=at(2026, 5, 28, 16, 0), channel=Channel.DIRECT)  # at the desk: not listed
    # Friday 07:30: 1.5 working hours only.
    sweep(at(2026, 5, 29, 7, 30), django_capture_on_commit_callbacks)
    assert mail_to("intake@example.gov.vn") == []
    # Monday 07:30: Thu 1 h + Fri 8 h + Mon 0.5 h.
    sweep(at(2026, 6, 1, 7, 30), django_capture_on_commit_callbacks)
    [message] = mail_to("intake@example.gov.vn")
    assert online.code in message.body
    assert "WAITING FOR INTAKE" in message.body
    assert "Nguyễn Văn An" in message.body
    assert len(mail.outbox) == 1


def test_unit_head_and_director_escalation_once_a_day(
    register, staff, units, django_capture_on_commit_callbacks
):
    d1 = processing(register, staff, units)
    d2 = processing(register, staff, units, officer="other_specialist", unit="QLCN")
    for d in (d1, d2):
        finish_steps(d, staff, at(2026, 6, 1, 10, 0))
    sweep(at(2026, 6, 9, 7, 30), django_capture_on_commit_callbacks)
    [head] = mail_to("unit_head@example.gov.vn")
    assert "OVERDUE IN YOUR UNIT" in head.body and d1.code in head.body
    assert d2.code not in head.body
    [director] = mail_to("director@example.gov.vn")
    assert "2 dossiers are overdue" in director.body
    assert "Phòng Quản lý Thương mại: 1" in director.body
    sweep(at(2026, 6, 9, 13, 30), django_capture_on_commit_callbacks)
    assert mail_to("unit_head@example.gov.vn") == mail_to("director@example.gov.vn") == []


def test_channels_follow_the_officers_choice(
    register, staff, units, django_capture_on_commit_callbacks
):
    d = processing(register, staff, units)
    finish_steps(d, staff, at(2026, 6, 1, 10, 0))
    profile = staff["specialist"].staff_profile
    profile.notify_by_email = False
    profile.notify_in_app = True
    profile.save()
    sweep(at(2026, 6, 5, 7, 30), django_capture_on_commit_callbacks)
    assert mail_to("specialist@example.gov.vn") == []
    digest = Delivery.objects.get(user=staff["specialist"], kind="staff.digest")
    assert (digest.channel, digest.status, digest.recipient) == (
        DeliveryChannel.IN_APP,
        DeliveryStatus.SENT,
        f"user:{staff['specialist'].pk}",
    )
    item = digest.items.get()
    assert item.subject_key.startswith(f"dossier:{d.pk}:due_soon:")
    assert (item.channel, item.recipient) == (
        DeliveryChannel.ITEM,
        f"user:{staff['specialist'].pk}",
    )
    assert "items_of" not in digest.payload


def test_both_digests_of_a_person_show_the_items_written_once(
    register, staff, units, django_capture_on_commit_callbacks
):
    """The specialist reads by e-mail and in the app: each item is one row, in the
    e-mail digest (the first channel); the in-app digest names it and shows the same."""
    from procedures.notifications.delivery import delivery_render

    dossiers = [processing(register, staff, units) for _ in range(2)]
    for d in dossiers:
        finish_steps(d, staff, at(2026, 6, 1, 10, 0))
    result = sweep(at(2026, 6, 5, 7, 30), django_capture_on_commit_callbacks)
    specialist = staff["specialist"]
    email, in_app = (
        Delivery.objects.filter(kind="staff.digest", user=specialist).order_by("pk").all()
    )
    assert (email.channel, in_app.channel) == (DeliveryChannel.EMAIL, DeliveryChannel.IN_APP)
    assert result.digests == [email.pk, in_app.pk] and result.items == 2
    items = Delivery.objects.filter(kind__startswith="reminder.")
    assert (
        sorted(items.values_list("recipient", "channel", "digest_id", "status"))
        == [(f"user:{specialist.pk}", DeliveryChannel.ITEM, email.pk, DeliveryStatus.IN_DIGEST)] * 2
    )
    assert email.payload == {"day": "2026-06-05", "slot": "0730", "items": 2}
    assert in_app.payload == {"day": "2026-06-05", "slot": "0730", "items": 2, "items_of": email.pk}
    assert not in_app.items.exists()
    [message] = mail_to("specialist@example.gov.vn")
    in_app.refresh_from_db()
    assert in_app.status == DeliveryStatus.SENT
    subject, body = delivery_render(in_app)
    assert (subject, body) == delivery_render(email) == (message.subject, message.body)
    assert all(d.code in body for d in dossiers)
    assert "0 overdue, 0 due today, 2 due soon" in subject


def test_turning_off_email_during_the_day_repeats_nothing_in_the_app(
    register, staff, units, django_capture_on_commit_callbacks
):
    """Items are what the person was told, on any channel: after the morning's e-mail
    and in-app digests, the afternoon's in-app-only digest has only what is new, and a
    changed e-mail address does not start the ledger again either."""
    from procedures.notifications.delivery import delivery_render

    old = processing(register, staff, units)
    finish_steps(old, staff, at(2026, 6, 1, 10, 0))
    sweep(at(2026, 6, 5, 7, 30), django_capture_on_commit_callbacks)
    specialist = staff["specialist"]
    profile = specialist.staff_profile
    profile.notify_by_email = False
    profile.save()
    new = processing(register, staff, units, accepted=at(2026, 6, 1, 11, 0))
    finish_steps(new, staff, at(2026, 6, 1, 11, 0))
    afternoon = sweep(at(2026, 6, 5, 13, 30), django_capture_on_commit_callbacks)
    assert mail_to("specialist@example.gov.vn") == []
    digest = Delivery.objects.get(
        user=specialist, kind="staff.digest", subject_key__endswith=":1330"
    )
    assert afternoon.digests == [digest.pk] and afternoon.items == 1
    assert afternoon.already_sent == 1
    assert digest.channel == DeliveryChannel.IN_APP and "items_of" not in digest.payload
    _subject, body = delivery_render(digest)
    assert new.code in body and old.code not in body
    # Back to e-mail only, under a new address: still nothing told twice.
    profile.notify_by_email, profile.notify_in_app = True, False
    profile.save()
    specialist.email = "an.specialist@example.gov.vn"
    specialist.save()
    evening = sweep(at(2026, 6, 5, 16, 0), django_capture_on_commit_callbacks)
    assert evening.digests == [] and evening.items == 0 and evening.already_sent == 2
    assert mail.outbox == []
    assert Delivery.objects.filter(kind__startswith="reminder.").count() == 2


def test_digests_written_before_items_were_per_person_still_render(register, staff, units):
    """Older ledger rows: the items of each digest on its own channel (no ``items_of``)."""
    from procedures.notifications.delivery import delivery_render

    d = processing(register, staff, units)
    specialist = staff["specialist"]
    for channel in (DeliveryChannel.EMAIL, DeliveryChannel.IN_APP):
        recipient = (
            specialist.email if channel == DeliveryChannel.EMAIL else f"user:{specialist.pk}"
        )
        digest = Delivery.objects.create(
            kind="staff.digest",
            channel=channel,
            recipient=recipient,
            user=specialist,
            subject_key="digest:2026-06-05:0730",
            language="en",
            payload={"day": "2026-06-05", "slot": "0730", "items": 1},
            status=DeliveryStatus.SENT,
        )
        Delivery.objects.create(
            kind="reminder.due_soon",
            channel=channel,
            recipient=recipient,
            user=specialist,
            subject_key=f"dossier:{d.pk}:due_soon:1",
            language="en",
            payload={"dossier_id": d.pk, "code": d.code, "due_at": d.due_at.isoformat()},
            status=DeliveryStatus.IN_DIGEST,
            digest=digest,
        )
        subject, body = delivery_render(digest)
        assert "1 due soon" in subject and d.code in body


# ------------------------------------------------------------------ exactly once


def test_running_the_sweep_twice_sends_each_reminder_once(
    register, staff, units, django_capture_on_commit_callbacks
):
    for _ in range(3):
        d = processing(register, staff, units)
        finish_steps(d, staff, at(2026, 6, 1, 10, 0))
    first = sweep(at(2026, 6, 5, 7, 30), django_capture_on_commit_callbacks)
    sent = len(mail.outbox)
    second = sweep(at(2026, 6, 5, 7, 30), django_capture_on_commit_callbacks)
    third = sweep(at(2026, 6, 5, 7, 45), django_capture_on_commit_callbacks)  # another slot
    email_digests = Delivery.objects.filter(kind="staff.digest", channel="email")
    assert sent == email_digests.count() == len(first.digests) - 1  # one in-app digest
    # Once for the specialist, whose e-mail and in-app digests share them.
    assert first.items == 3
    assert second.digests == third.digests == [] and mail.outbox == []
    assert second.already_sent == third.already_sent == first.items
    items = Delivery.objects.filter(kind__startswith="reminder.")
    assert set(items.values_list("channel", "recipient")) == {
        (DeliveryChannel.ITEM, f"user:{staff['specialist'].pk}")
    }
    assert items.count() == 3
    # A digest whose items were all reminded before is not even kept.
    assert Delivery.objects.filter(kind="staff.digest").count() == len(first.digests)


def test_dry_run_lists_and_writes_nothing(register, staff, units, capsys):
    d = processing(register, staff, units)
    finish_steps(d, staff, at(2026, 6, 1, 10, 0))
    call_command("send_reminders", "--dry-run", "--now", "2026-06-05T07:30:00+07:00")
    out = capsys.readouterr().out
    # Each digest lists the items it would show; the person's items count once.
    assert "specialist@example.gov.vn [email]: 1 new item(s)" in out
    assert f"user:{staff['specialist'].pk} [in_app]: 1 new item(s)" in out
    assert "reminder.due_soon" in out and f"dossier:{d.pk}:due_soon:" in out
    assert "Dry run: 2 digest(s) with 1 new item(s) would go out" in out
    assert "Nothing was written" in out
    assert not Delivery.objects.filter(kind__startswith="reminder.").exists()
    assert not Delivery.objects.filter(kind="staff.digest").exists()
    call_command("send_reminders", "--now", "2026-06-05T07:30:00+07:00")
    assert "Queued 2 digest(s) with 1 new item(s)" in capsys.readouterr().out
    call_command("send_reminders", "--dry-run", "--now", "2026-06-05T07:30:00+07:00")
    assert "0 digest(s) with 0 new item(s) would go out; 1 item(s)" in capsys.readouterr().out
    call_command("send_reminders", "--now", "2026-06-06T07:30")  # Saturday, naive = local
    assert "not a working day" in capsys.readouterr().out
    with pytest.raises(CommandError, match="not an ISO 8601"):
        call_command("send_reminders", "--now", "tomorrow")


# ------------------------------------------------------------------ cost


def _due_dossiers(register, staff, units, n, accepted):
    for _ in range(n):
        d = processing(register, staff, units, accepted=accepted)
        finish_steps(d, staff, accepted)


def test_sweep_queries_do_not_grow_with_the_number_of_dossiers(register, staff, units):
    _due_dossiers(register, staff, units, 2, at(2026, 6, 1, 10, 0))
    with CaptureQueriesContext(connection) as small:
        reminders_sweep(now=at(2026, 6, 5, 7, 30))
    Delivery.objects.all().delete()
    _due_dossiers(register, staff, units, 12, at(2026, 6, 1, 10, 0))
    with CaptureQueriesContext(connection) as large:
        reminders_sweep(now=at(2026, 6, 5, 7, 30))
    assert len(large) == len(small)
    # Reads: dossiers, steps (their dossiers too when some are due), awaiting
    # intake, role memberships, users; then per
    # recipient and channel: savepoints, digest insert, item insert, count, update.
    with CaptureQueriesContext(connection) as plan_queries:
        plan = reminders_plan(now=at(2026, 6, 5, 7, 30))
    assert len(plan_queries) == 5
    assert len(plan.items[staff["specialist"].pk]) == 14


def test_digest_renders_with_a_fixed_number_of_queries(register, staff, units):
    from procedures.notifications.delivery import delivery_render

    _due_dossiers(register, staff, units, 2, at(2026, 6, 1, 10, 0))
    reminders_sweep(now=at(2026, 6, 8, 13, 30))
    small = Delivery.objects.get(kind="staff.digest", channel="email", user=staff["specialist"])
    with CaptureQueriesContext(connection) as q_small:
        delivery_render(small)
    _due_dossiers(register, staff, units, 6, at(2026, 6, 1, 10, 0))
    reminders_sweep(now=at(2026, 6, 8, 15, 0))
    large = (
        Delivery.objects.filter(kind="staff.digest", channel="email", user=staff["specialist"])
        .exclude(pk=small.pk)
        .get()
    )
    assert large.items.count() == 6
    with CaptureQueriesContext(connection) as q_large:
        delivery_render(large)
    assert len(q_large) == len(q_small) <= 5
    # The in-app digest shares the e-mail digest's items, at the same cost.
    in_app = Delivery.objects.get(kind="staff.digest", payload__items_of=large.pk)
    with CaptureQueriesContext(connection) as q_in_app:
        shown = delivery_render(in_app)
    assert shown == delivery_render(large)
    assert len(q_in_app) == len(q_large)


# The planner's choice between the two indexes follows the statistics that the tests
# run before on the same database left (autovacuum's ANALYZE after the transactional
# tests' committed rows). pytest-django runs those last in one run, but an xdist worker
# takes files as they are handed out, so `make test` runs this in its first, serial run.
@pytest.mark.serial
def test_sweep_uses_the_partial_indexes_on_postgresql(require_postgres):
    from procedures.models import DossierStep
    from procedures.notifications.selectors import dossiers_due

    until = at(2026, 6, 5, 17, 0)
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
        plan = dossiers_due(until=until).explain()
        assert "dossier_open_due_idx" in plan, plan
        plan = DossierStep.objects.filter(
            started_at__isnull=False, completed_at__isnull=True, due_at__lte=until
        ).explain()
        assert "dossier_step_open_due_idx" in plan, plan
        cursor.execute("RESET enable_seqscan")


def test_partial_index_matches_the_model():
    # Guard: the sweep filters on running statuses, a subset of the index predicate.
    from procedures.core.constants import CLOCK_RUNNING_STATUSES, OPEN_STATUSES

    assert set(CLOCK_RUNNING_STATUSES) <= set(OPEN_STATUSES)
    assert Decimal("1")  # keep the import used
