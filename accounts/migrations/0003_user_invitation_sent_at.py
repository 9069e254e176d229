from django.db import migrations, models
from django.db.models import F


def mark_past_invitations_sent(apps, schema_editor):
    # Invitations made before the outbox existed were sent (or are long lost); the
    # sweeper must not send them all again.
    User = apps.get_model("accounts", "User")
    User.objects.filter(invited_at__isnull=False).update(invitation_sent_at=F("invited_at"))


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0002_seed_vocabularies'),
    ]

    operations = [
        migrations.AddField(
            model_name='user',
            name='invitation_sent_at',
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.RunPython(mark_past_invitations_sent, migrations.RunPython.noop),
    ]
