from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("customers", "0004_contact_roles_primary_notes")]

    operations = [
        migrations.AddField("customer", "address", models.CharField(blank=True, help_text="billing address (printed on tax invoices)", max_length=300)),
        migrations.AddField("customer", "city", models.CharField(blank=True, max_length=100)),
        migrations.AddField("customer", "pin", models.CharField(blank=True, help_text="PIN code", max_length=6)),
        migrations.AddField("customer", "bill_by_po", models.BooleanField(default=False, help_text="bill run: one invoice per purchase order, not per delivery")),
    ]
