"""Reminder items are what a person has been told, whatever the channel: the sweep
writes each once per person, on the channel "item" with the recipient "user:<id>"
(procedures/notifications/reminders.py), instead of once per digest channel: half
the rows of a sweep. Only the choices change; rows written before keep their channel.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("procedures", "0020_i13i_delivery_item_indexes"),
    ]

    operations = [
        migrations.AlterField(
            model_name="delivery",
            name="channel",
            field=models.CharField(
                choices=[
                    ("email", "Email"),
                    ("in_app", "In the app"),
                    ("national", "National portal"),
                    ("sms", "SMS"),
                    ("item", "Reminder item (shared by the person's digests)"),
                ],
                default="email",
                max_length=10,
                verbose_name="channel",
            ),
        ),
    ]
