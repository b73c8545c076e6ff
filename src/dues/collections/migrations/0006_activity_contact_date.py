"""Activity.on: the day of the contact, apart from ``at`` (when it was recorded).

Existing rows get the date of ``at`` in the desk's time zone (``settings.TIME_ZONE``): before this
field the record time was the only date an activity had.
"""

from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import migrations, models
from django.db.models.functions import TruncDate

import dues.clock


def contact_dates(apps, schema_editor):
    Activity = apps.get_model("collections", "Activity")
    Activity.objects.update(on=TruncDate("at", tzinfo=ZoneInfo(settings.TIME_ZONE)))


class Migration(migrations.Migration):

    dependencies = [
        ('collections', '0005_alter_activity_at_and_more'),
    ]

    operations = [
        migrations.AddField(
            model_name='activity',
            name='on',
            field=models.DateField(null=True),
        ),
        migrations.RunPython(contact_dates, migrations.RunPython.noop),
        migrations.AlterField(
            model_name='activity',
            name='on',
            field=models.DateField(default=dues.clock.today, help_text='the day of the contact (a call logged the day after is still on the day of the call)'),
        ),
        migrations.AlterField(
            model_name='activity',
            name='at',
            field=models.DateTimeField(default=dues.clock.now, editable=False, help_text='when it was recorded'),
        ),
        migrations.AddIndex(
            model_name='activity',
            index=models.Index(fields=['company', 'customer', 'on'], name='activity_contact_on'),
        ),
    ]
