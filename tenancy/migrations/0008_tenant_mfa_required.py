from django.db import migrations, models


class Migration(migrations.Migration):
    """A tenant may require a second factor of its staff (issue 17); off for every tenant."""

    dependencies = [("tenancy", "0007_tenant_wall")]

    operations = [
        migrations.AddField(
            model_name="tenant",
            name="mfa_required",
            field=models.BooleanField(
                default=False,
                help_text="Agents, managers and admins must use a second factor (tenancy/mfa/).",
            ),
        ),
    ]
