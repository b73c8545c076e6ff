# Issue 10: a minimum overdue amount per policy (existing policies get 500.00 in the company currency),
# and steps kept inactive when removed after they sent messages.

from decimal import Decimal

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('collections', '0006_activity_contact_date'),
        ('companies', '0002_alter_company_created_at'),
    ]

    operations = [
        migrations.AddField(
            model_name='dunningpolicy',
            name='min_overdue',
            field=models.DecimalField(decimal_places=4, default=Decimal('500.00'), help_text='nothing is sent to a customer whose overdue total (net of disputes and unapplied credits) is below it; before the due date, the amount falling due', max_digits=20),
        ),
        migrations.AddField(
            model_name='dunningstep',
            name='active',
            field=models.BooleanField(default=True, help_text='a removed step that has sent messages is kept, inactive, for their history'),
        ),
        migrations.AddConstraint(
            model_name='dunningpolicy',
            constraint=models.CheckConstraint(condition=models.Q(('min_overdue__gte', 0)), name='dunning_policy_min_nonneg'),
        ),
    ]
