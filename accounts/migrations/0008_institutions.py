"""Institutions become rows: each program's institution name turns into an Institution
(which says how its people sign in), and API tokens get a name."""

import django.db.models.deletion
from django.db import migrations, models
from django.utils.text import slugify


def institutions_from_names(apps, schema_editor):
    Institution = apps.get_model("accounts", "Institution")
    Program = apps.get_model("accounts", "Program")
    by_name = {}
    for program in Program.objects.order_by("pk"):
        name = program.institution_name.strip() or "Unnamed institution"
        if name not in by_name:
            base = slugify(name)[:70] or "institution"
            slug, n = base, 2
            while Institution.objects.filter(slug=slug).exists():
                slug, n = f"{base}-{n}", n + 1
            by_name[name] = Institution.objects.create(name=name, slug=slug)
        program.institution = by_name[name]
        program.save(update_fields=["institution"])


def names_from_institutions(apps, schema_editor):
    Program = apps.get_model("accounts", "Program")
    for program in Program.objects.select_related("institution"):
        program.institution_name = program.institution.name
        program.save(update_fields=["institution_name"])


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0007_invitation_lease"),
        ("socialaccount", "0006_alter_socialaccount_extra_data"),
    ]

    operations = [
        migrations.CreateModel(
            name="Institution",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("name", models.CharField(max_length=200, unique=True)),
                ("slug", models.SlugField(max_length=80, unique=True)),
                ("email_domains", models.CharField(blank=True, help_text="E-mail domains whose people sign in through this institution's SSO, separated by commas (e.g. lakeside.org, med.lakeside.org). Leave empty to offer SSO as a button only.", max_length=500)),
                ("require_mfa_for_coordinators", models.BooleanField(default=True, help_text="Coordinators of this institution's programs must use a second factor (an authenticator app or a security key) to sign in.")),
                ("accept_idp_mfa", models.BooleanField(default=True, help_text="A sign-in through SSO for which the identity provider reports multi-factor authentication (OIDC amr/acr, SAML AuthnContextClassRef) counts as the second factor.")),
                ("sso_self_service", models.BooleanField(default=False, help_text="Let people of these e-mail domains who are on no roster yet create an account by signing in through SSO. Off: SSO signs in only people a coordinator has put on a roster.")),
                ("sso_app", models.OneToOneField(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="institution", to="socialaccount.socialapp", verbose_name="SSO provider")),
            ],
            options={"ordering": ["name"]},
        ),
        migrations.RenameField(model_name="program", old_name="institution", new_name="institution_name"),
        migrations.AddField(
            model_name="program",
            name="institution",
            field=models.ForeignKey(null=True, on_delete=django.db.models.deletion.PROTECT, related_name="programs", to="accounts.institution"),
        ),
        migrations.RunPython(institutions_from_names, names_from_institutions),
        migrations.RemoveField(model_name="program", name="institution_name"),
        migrations.AlterField(
            model_name="program",
            name="institution",
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name="programs", to="accounts.institution"),
        ),
        migrations.AddField(
            model_name="apitoken",
            name="name",
            field=models.CharField(blank=True, help_text="What the token is for, e.g. the script or device that holds it.", max_length=100),
        ),
    ]
