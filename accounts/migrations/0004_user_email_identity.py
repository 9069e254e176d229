"""One identity per e-mail: the canonical key (unique) and the look-alike skeleton.

Existing rows get both columns from their address. Two accounts whose addresses share
a canonical key (``lisa.sims@`` and ``lisa.ſims@``) cannot both keep it: the migration
stops and names their ids, for a superuser to merge or deactivate one, rather than
choosing silently which person keeps the address.
"""

from django.db import migrations, models
from django.db.models import Q


def fill_identity(apps, schema_editor):
    from accounts.identity import canonical_email, email_skeleton

    User = apps.get_model("accounts", "User")
    owners = {}
    users = list(User.objects.only("pk", "email").order_by("pk"))
    for user in users:
        user.email_key = canonical_email(user.email)
        user.email_skeleton = email_skeleton(user.email)
        if user.email_key in owners:
            raise RuntimeError(
                f"Users {owners[user.email_key]} and {user.pk} have the same e-mail address once case and "
                "Unicode compatibility forms are folded. Merge or change one of them, then migrate again."
            )
        owners[user.email_key] = user.pk
    User.objects.bulk_update(users, ["email_key", "email_skeleton"], batch_size=1000)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_user_invitation_sent_at"),
    ]

    operations = [
        migrations.AddField(
            model_name="user", name="email_key", field=models.CharField(default="", editable=False, max_length=254),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="user", name="email_skeleton",
            field=models.CharField(default="", editable=False, max_length=254), preserve_default=False,
        ),
        migrations.RunPython(fill_identity, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="user", name="email_key",
            field=models.CharField(editable=False, max_length=254, unique=True),
        ),
        migrations.AlterField(
            model_name="user", name="email_skeleton",
            field=models.CharField(db_index=True, editable=False, max_length=254),
        ),
        migrations.RemoveConstraint(model_name="user", name="user_email_unique_ci"),
        migrations.AddConstraint(
            model_name="user",
            constraint=models.CheckConstraint(
                condition=~Q(email_key="") & ~Q(email_skeleton=""), name="user_email_key_set"
            ),
        ),
    ]
