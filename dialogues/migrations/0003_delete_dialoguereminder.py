"""Dialogue mail moves onto the shared delivery ledger (procedures.Delivery).

The sent-markers are carried over first: without them, every recommendation already
reminded (above all the overdue and escalated ones) would be reminded again by the
first scan after the upgrade. The key is written as dialogues.ledger writes it,
frozen here so that a later change there cannot change this migration.
"""

from datetime import UTC

from django.db import migrations

KINDS = {
    "registration_confirmed": ("dialogue.registration_confirmed", "registration"),
    "registration_promoted": ("dialogue.promotion", "registration"),
    "session_reminder": ("dialogue.session_reminder", "registration"),
    "answer_due_soon": ("dialogue.answer_due_soon", "recommendation"),
    "answer_overdue": ("dialogue.answer_overdue", "recommendation"),
    "answer_escalation": ("dialogue.answer_escalation", "recommendation"),
}


def markers_to_ledger(apps, schema_editor):
    DialogueReminder = apps.get_model("dialogues", "DialogueReminder")
    Delivery = apps.get_model("procedures", "Delivery")
    rows = []
    for marker in DialogueReminder.objects.iterator():
        kind, prefix = KINDS[marker.kind]
        subject_key = f"{prefix}:{marker.object_id}:{marker.deadline.astimezone(UTC).isoformat()}"
        for recipient in filter(None, (r.strip() for r in marker.recipients.split(","))):
            rows.append(
                Delivery(
                    kind=kind,
                    recipient=recipient,
                    subject_key=subject_key,
                    payload={f"{prefix}_id": marker.object_id},
                    status="sent" if marker.sent_at else "failed",
                    attempts=1,
                    sent_at=marker.sent_at,
                    last_error=marker.error,
                )
            )
    Delivery.objects.bulk_create(rows, batch_size=500, ignore_conflicts=True)


class Migration(migrations.Migration):
    dependencies = [
        ("dialogues", "0002_reminder_schedule"),
        ("procedures", "0010_step_completed_index"),
    ]

    operations = [
        migrations.RunPython(markers_to_ledger, migrations.RunPython.noop),
        migrations.DeleteModel(name="DialogueReminder"),
    ]
