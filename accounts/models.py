"""Who people are: users, programs, memberships, profiles and their vocabularies."""

import zoneinfo

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from core.bounds import PLANNED_DAY
from core.locking import lock_account_creation

from .identity import canonical_email, email_skeleton

TIME_ZONE_CHOICES = sorted((tz, tz.replace("_", " ")) for tz in zoneinfo.available_timezones() if "/" in tz)


def validate_time_zone(value):
    if value not in zoneinfo.available_timezones():
        raise ValidationError("%(value)s is not a known time zone.", params={"value": value})


class UserManager(BaseUserManager):
    use_in_migrations = True

    def get_by_natural_key(self, email):
        # Sign-in (pages, admin, API token) looks people up by the canonical key only:
        # an exact match under a unique constraint, so never two users.
        return self.get(email_key=canonical_email(email))

    def by_email(self, email):
        """The account ``email`` names (any spelling of its canonical key), or None."""
        return self.filter(email_key=canonical_email(email)).first()

    def _create_user(self, email, password, **extra):
        if not email:
            raise ValueError("An e-mail address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        lock_account_creation()  # held to the end of the caller's transaction, if any
        user.clean_identity()
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra):
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email, password=None, **extra):
        extra.update(is_staff=True, is_superuser=True)
        return self._create_user(email, password, **extra)


def identity_error(email: str, *, exclude_pk=None) -> ValidationError | None:
    """Why ``email`` cannot name a new (or renamed) account, or None.

    Its canonical key must be free, and no other account's address may share its
    confusable skeleton (a look-alike such as ``gabrıela@`` beside ``gabriela@``).
    The messages name no account: the person typing may not know it.
    """
    key = canonical_email(email)
    if len(key) > User._meta.get_field("email_key").max_length:
        return ValidationError("This e-mail address is too long.", code="too_long")
    others = User.objects.exclude(pk=exclude_pk) if exclude_pk else User.objects.all()
    if others.filter(email_key=key).exists():
        return ValidationError("An account with this e-mail address already exists.", code="exists")
    if others.filter(email_skeleton=email_skeleton(email)).exists():
        return ValidationError(
            "This address looks like the address of an existing account: it differs only in characters "
            "that look alike (such as ı and i, or а and a). Check that it is typed with plain letters.",
            code="look_alike",
        )
    return None


class User(AbstractBaseUser, PermissionsMixin):
    """A person. The e-mail address is the log-in; it is stored lower-case, and
    ``email_key`` (its canonical form, accounts/identity.py) decides who it is."""

    email = models.EmailField("e-mail address", max_length=254, unique=True)
    # Derived from ``email`` on every save (and by ``identity_fields`` for bulk inserts).
    email_key = models.CharField(max_length=254, unique=True, editable=False)
    email_skeleton = models.CharField(max_length=254, db_index=True, editable=False)
    first_name = models.CharField(max_length=150)
    last_name = models.CharField(max_length=150)
    time_zone = models.CharField(
        max_length=64, default=settings.TIME_ZONE, choices=TIME_ZONE_CHOICES, validators=[validate_time_zone]
    )
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False, help_text="Can log in to the admin site.")
    date_joined = models.DateTimeField(default=timezone.now)
    invited_at = models.DateTimeField(null=True, blank=True)
    # The invitation outbox: an invitation is unsent while this is empty or older than
    # invited_at; it is set once the send succeeded, and a sweeper re-enqueues the rest.
    invitation_sent_at = models.DateTimeField(null=True, blank=True, editable=False)
    # A sender's lease while it sends (accounts/services.py): set before, cleared after.
    invitation_claimed_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_seen = models.DateTimeField(null=True, blank=True, help_text="Last request, to the nearest few minutes.")

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["first_name", "last_name"]

    class Meta:
        ordering = ["last_name", "first_name", "id"]
        constraints = [
            # A row written without its key (a bulk insert that forgot identity_fields) fails here.
            models.CheckConstraint(condition=~Q(email_key="") & ~Q(email_skeleton=""), name="user_email_key_set"),
        ]
        # Lists of people sort by name (the ordering above): the mentors API, the directory and the
        # pairings list read one page of 20,000 in order from this index (docs/performance.md).
        indexes = [models.Index(fields=["last_name", "first_name", "id"], name="accounts_user_name_idx")]

    def __str__(self):
        return self.full_name or self.email

    @staticmethod
    def identity_fields(email: str) -> dict:
        """The derived columns for ``email``: pass them to User(...) in bulk inserts."""
        return {"email_key": canonical_email(email), "email_skeleton": email_skeleton(email)}

    def save(self, *args, **kwargs):
        for name, value in self.identity_fields(self.email).items():
            setattr(self, name, value)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "email" in update_fields:
            kwargs["update_fields"] = {*update_fields, "email_key", "email_skeleton"}
        # set_password() leaves the new password here until the row is saved: the change and
        # reset pages, an invitation, the admin and ``changepassword`` all come through.
        password_changed = self._password is not None
        super().save(*args, **kwargs)
        if password_changed or not self.is_active:
            # A new password, or deactivation, ends every API token (ApiToken.is_valid also
            # refuses one whose password fingerprint is stale or whose user is inactive, should
            # either ever change without a save), so reactivating brings none back.
            ApiToken.objects.filter(user=self).delete()

    def clean(self):
        super().clean()
        self.email = self.__class__.objects.normalize_email(self.email).lower()
        self.clean_identity()

    def clean_identity(self):
        """Refuse an address whose key is taken or that looks like another account's."""
        if self.email and (self._state.adding or self.email_key != canonical_email(self.email)):
            error = identity_error(self.email, exclude_pk=self.pk)
            if error:
                raise ValidationError({"email": error})

    @property
    def full_name(self):
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        """The person's time zone: pages, e-mails and exports show their times in it. The
        site's default if the stored name is no zone (only a hand-edited row: saves validate it)."""
        try:
            return zoneinfo.ZoneInfo(self.time_zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError, TypeError):
            return timezone.get_default_timezone()


# --- Vocabularies: data, seeded by data migrations, editable in the admin.


class Vocabulary(models.Model):
    name = models.CharField(max_length=120, unique=True)
    slug = models.SlugField(max_length=120, unique=True)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        abstract = True
        ordering = ["order", "name"]

    def __str__(self):
        return self.name


class Specialty(models.Model):
    """An ACGME specialty, or a subspecialty when ``parent`` is set.

    A subspecialty name may recur under several parents (Sports Medicine), so names
    are unique per parent; slugs are unique everywhere.
    """

    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=120, unique=True)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="subspecialties")

    class Meta:
        verbose_name_plural = "specialties"
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["parent", "name"], name="specialty_name_unique_per_parent"),
            models.UniqueConstraint(
                fields=["name"], condition=Q(parent__isnull=True), name="specialty_top_level_name_unique"
            ),
        ]

    def __str__(self):
        return self.name

    @property
    def is_subspecialty(self):
        return self.parent_id is not None


class Goal(Vocabulary):
    description = models.CharField(max_length=255, blank=True)


class Interest(Vocabulary):
    """A topic tag shared by mentees (interests) and mentors (expertise)."""

    class Meta(Vocabulary.Meta):
        ordering = ["name"]


class CareerStage(Vocabulary):
    """MS4, PGY-1 … PGY-7, fellow, junior faculty; ``order`` measures career distance."""

    code = models.CharField(max_length=20, unique=True)


class AcademicRank(Vocabulary):
    pass


class Language(Vocabulary):
    code = models.CharField(max_length=8, unique=True, help_text="ISO 639-1 code.")

    class Meta(Vocabulary.Meta):
        ordering = ["name"]


class MeetingFormat(Vocabulary):
    pass


# --- Institutions, their programs, and who belongs to them.


class Institution(models.Model):
    """A hospital or university: its programs, and how its people sign in.

    Set up by a superuser in the admin. ``sso_app`` is the institution's identity provider
    (an allauth SocialApp: OpenID Connect or SAML 2.0); ``email_domains`` are the addresses
    it signs in, so typing one on the sign-in page goes straight to the provider.
    accounts/auth/policy.py reads these flags; nothing else does.
    """

    name = models.CharField(max_length=200, unique=True)
    slug = models.SlugField(max_length=80, unique=True)
    email_domains = models.CharField(
        verbose_name="E-mail domains",
        max_length=500,
        blank=True,
        help_text="E-mail domains whose people sign in through this institution's SSO, separated by commas "
        "(e.g. lakeside.org, med.lakeside.org). Leave empty to offer SSO as a button only.",
    )
    require_mfa_for_coordinators = models.BooleanField(
        verbose_name="Require MFA for coordinators",
        default=True,
        help_text="Coordinators of this institution's programs must use a second factor "
        "(an authenticator app or a security key) to sign in.",
    )
    accept_idp_mfa = models.BooleanField(
        verbose_name="Accept the identity provider's MFA",
        default=True,
        help_text="A sign-in through SSO for which the identity provider reports multi-factor authentication "
        "(OIDC amr/acr, SAML AuthnContextClassRef) counts as the second factor.",
    )
    sso_self_service = models.BooleanField(
        verbose_name="SSO self-service",
        default=False,
        help_text="Let people of these e-mail domains who are on no roster yet create an account by signing in "
        "through SSO. Off: SSO signs in only people a coordinator has put on a roster.",
    )
    sso_app = models.OneToOneField(
        "socialaccount.SocialApp",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="institution",
        verbose_name="SSO provider",
    )

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    @property
    def domains(self) -> list[str]:
        return [d.strip().lower().lstrip("@") for d in self.email_domains.split(",") if d.strip()]


class InstitutionRole(models.Model):
    """Someone who runs MentorMatch for an institution, above its coordinators: creates and
    edits the institution's programs and names their coordinators, in the product rather
    than the Django admin. Granted by a superuser (admin) or another administrator."""

    class Role(models.TextChoices):
        ADMIN = "admin", "Institution administrator"

    institution = models.ForeignKey(Institution, on_delete=models.CASCADE, related_name="roles")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="institution_roles")
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.ADMIN)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["institution", "user"]
        constraints = [
            models.UniqueConstraint(fields=["institution", "user", "role"], name="institution_role_unique"),
            models.CheckConstraint(condition=Q(role__in=["admin"]), name="institution_role_valid"),
        ]

    def __str__(self):
        return f"{self.user} — {self.get_role_display()}, {self.institution}"


class Program(models.Model):
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=80, unique=True)
    specialty = models.ForeignKey(Specialty, on_delete=models.PROTECT, related_name="programs")
    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="programs")
    time_zone = models.CharField(
        max_length=64, default=settings.TIME_ZONE, choices=TIME_ZONE_CHOICES, validators=[validate_time_zone]
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("accounts:roster", kwargs={"slug": self.slug})


class Membership(models.Model):
    class Role(models.TextChoices):
        RESIDENT = "resident", "Resident"
        FACULTY = "faculty", "Faculty"
        COORDINATOR = "coordinator", "Coordinator"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["program", "role", "user"]
        constraints = [
            # One user may hold several roles in a program, but each role once.
            models.UniqueConstraint(fields=["user", "program", "role"], name="membership_unique_role"),
            models.CheckConstraint(
                condition=Q(role__in=["resident", "faculty", "coordinator"]), name="membership_role_valid"
            ),
        ]
        indexes = [models.Index(fields=["program", "role"])]

    def __str__(self):
        return f"{self.user} — {self.get_role_display()}, {self.program}"


class ProgramInvitation(models.Model):
    """An existing account asked to join a program: a membership once the person accepts.

    A person belongs to themselves. A coordinator's roster import creates new people
    outright, but someone who already belongs to another program, or has signed in,
    is only invited; until they accept, the coordinator sees nothing but what they
    typed (kept here), and nothing about the person changes.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for an answer"
        ACCEPTED = "accepted", "Accepted"
        DECLINED = "declined", "Declined"
        WITHDRAWN = "withdrawn", "Withdrawn"

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="invitations")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="program_invitations")
    role = models.CharField(max_length=20, choices=Membership.Role.choices)
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    # What the coordinator typed: the only description of the person they may see.
    email = models.EmailField(max_length=254)
    first_name = models.CharField(max_length=150)
    last_name = models.CharField(max_length=150)
    # What the file said of the role; used only for a profile the person does not have yet.
    career_stage = models.ForeignKey("CareerStage", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    specialty = models.ForeignKey("Specialty", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    academic_rank = models.ForeignKey(
        "AcademicRank", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(default=timezone.now)
    responded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["program", "user", "role"], condition=Q(status="pending"), name="program_invitation_one_pending"
            ),
            models.CheckConstraint(condition=Q(role__in=["resident", "faculty"]), name="program_invitation_role_valid"),
        ]
        indexes = [models.Index(fields=["user", "status"]), models.Index(fields=["program", "status"])]

    def __str__(self):
        return f"{self.email} invited to {self.program} as {self.get_role_display()} ({self.get_status_display()})"

    @property
    def full_name(self):
        return f"{self.first_name} {self.last_name}".strip()


# --- Profiles.


class ProfileBase(models.Model):
    bio = models.TextField(blank=True, max_length=2000)
    interests = models.ManyToManyField(Interest, blank=True)
    languages = models.ManyToManyField(Language, blank=True)
    meeting_formats = models.ManyToManyField(MeetingFormat, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class MenteeProfile(ProfileBase):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="mentee_profile")
    career_stage = models.ForeignKey(CareerStage, null=True, blank=True, on_delete=models.PROTECT)
    goals = models.ManyToManyField(Goal, blank=True, related_name="mentees")
    subspecialty_interests = models.ManyToManyField(
        Specialty, blank=True, related_name="interested_mentees", help_text="Fields you are considering."
    )
    goals_text = models.TextField("what you hope to get from mentorship", blank=True, max_length=2000)

    # Fields that make a profile useful for matching, with the hint shown when missing.
    COMPLETENESS = [
        ("career_stage", "your PGY year"),
        ("goals", "your goals"),
        ("interests", "your interests"),
        ("languages", "the languages you speak"),
        ("meeting_formats", "how you like to meet"),
        ("availability", "when you are free"),
        ("goals_text", "what you hope to get from mentorship"),
    ]

    def __str__(self):
        return f"Mentee profile of {self.user}"


class MentorProfile(ProfileBase):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="mentor_profile")
    specialty = models.ForeignKey(Specialty, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    subspecialty = models.ForeignKey(Specialty, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    academic_rank = models.ForeignKey(AcademicRank, null=True, blank=True, on_delete=models.PROTECT)
    career_stage = models.ForeignKey(
        CareerStage,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        help_text="For near-peer mentors (senior residents, fellows, junior faculty).",
    )
    expertise = models.ManyToManyField(
        Goal, blank=True, related_name="mentors", help_text="Goals you can help mentees with."
    )
    capacity = models.PositiveSmallIntegerField(
        default=2, validators=[MaxValueValidator(20)], help_text="How many mentees you can take at once."
    )
    accepting_mentees = models.BooleanField(default=True)

    COMPLETENESS = [
        ("specialty", "your specialty"),
        ("academic_rank_or_stage", "your academic rank or career stage"),
        ("expertise", "the goals you can help with"),
        ("interests", "your areas of interest"),
        ("languages", "the languages you speak"),
        ("meeting_formats", "how you like to meet"),
        ("availability", "when you are free"),
        ("bio", "a short bio"),
    ]

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(capacity__gte=0) & Q(capacity__lte=20), name="mentor_capacity_range"),
        ]

    def __str__(self):
        return f"Mentor profile of {self.user}"

    def clean(self):
        super().clean()
        if self.subspecialty_id and not self.specialty_id:
            raise ValidationError({"subspecialty": "Choose your specialty first."})
        if self.subspecialty_id and self.subspecialty.parent_id != self.specialty_id:
            raise ValidationError({"subspecialty": f"{self.subspecialty} is not a subspecialty of {self.specialty}."})
        if self.specialty_id and self.specialty.parent_id is not None:
            raise ValidationError({"specialty": "Choose a specialty here and the subspecialty below."})


# --- When people are free.


class AvailabilityWindow(models.Model):
    """A weekly window, in the user's own time zone."""

    class Weekday(models.IntegerChoices):
        MONDAY = 0, "Monday"
        TUESDAY = 1, "Tuesday"
        WEDNESDAY = 2, "Wednesday"
        THURSDAY = 3, "Thursday"
        FRIDAY = 4, "Friday"
        SATURDAY = 5, "Saturday"
        SUNDAY = 6, "Sunday"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="availability")
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    start = models.TimeField()
    end = models.TimeField()

    class Meta:
        ordering = ["user", "weekday", "start"]
        constraints = [
            models.CheckConstraint(condition=Q(end__gt=models.F("start")), name="availability_end_after_start"),
            models.CheckConstraint(condition=Q(weekday__gte=0) & Q(weekday__lte=6), name="availability_weekday_valid"),
        ]

    def __str__(self):
        return f"{self.get_weekday_display()} {self.start:%H:%M}–{self.end:%H:%M}"

    def clean(self):
        if self.start and self.end and self.end <= self.start:
            raise ValidationError({"end": "The window must end after it starts."})


class BusyCalendar(models.Model):
    """Where imported busy blocks came from: an uploaded ``.ics`` file (imported once) or a
    calendar feed URL (a rotation schedule from Amion, QGenda…), refreshed daily."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="busy_calendars")
    name = models.CharField(max_length=120)
    url = models.URLField(max_length=1000, blank=True, help_text="Blank for an uploaded file.")
    created_at = models.DateTimeField(default=timezone.now)
    last_synced_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["user", "name", "id"]

    def __str__(self):
        return self.name


class BusyBlock(models.Model):
    """Dated time away (nights, ICU month, vacation) that meeting suggestions avoid."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="busy_blocks")
    start_date = models.DateField()
    end_date = models.DateField()
    label = models.CharField(max_length=120, help_text="e.g. Night float, ICU, vacation")
    # Imported blocks: their calendar and the event's UID there (a refresh replaces them).
    calendar = models.ForeignKey(BusyCalendar, null=True, blank=True, on_delete=models.CASCADE, related_name="blocks")
    external_uid = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["user", "start_date"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__gte=models.F("start_date")), name="busyblock_end_not_before_start"
            ),
        ]

    def __str__(self):
        return f"{self.label}: {self.start_date} – {self.end_date}"

    def clean(self):
        zone = self.user.time_zone if self.user_id else None
        PLANNED_DAY.check_day(self.start_date, zone=zone, field="start_date")
        PLANNED_DAY.check_day(self.end_date, zone=zone, field="end_date")
        if self.start_date and self.end_date and self.end_date < self.start_date:
            raise ValidationError({"end_date": "The block must end on or after its first day."})


# --- Roster imports: the uploaded file is kept between the preview and the import.


class RosterImport(models.Model):
    class Status(models.TextChoices):
        PREVIEWED = "previewed", "Previewed"
        APPLYING = "applying", "Importing"
        APPLIED = "applied", "Imported"
        FAILED = "failed", "Failed"

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="roster_imports")
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    filename = models.CharField(max_length=255)
    content = models.TextField(help_text="The decoded CSV text.")
    # The file parsed once, at upload (accounts/roster.py): rows, errors and counts. The
    # preview page reads it; applying re-checks the rows against the database only.
    parsed = models.JSONField(default=dict, editable=False)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PREVIEWED)
    row_count = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)
    unchanged_count = models.PositiveIntegerField(default=0)
    invited_count = models.PositiveIntegerField(default=0, help_text="Existing accounts asked to join.")
    # A large import runs as a task: its progress bar reads this (0–100), and its error if it failed.
    progress = models.PositiveSmallIntegerField(default=0, validators=[MaxValueValidator(100)])
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    applied_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.filename} → {self.program} ({self.get_status_display()})"


# --- API tokens.


class ApiToken(models.Model):
    """A bearer token for the API (``Authorization: Token <secret>``).

    Only the SHA-256 of the secret is stored: the secret is shown once, in the token
    response, so a copy of the database holds no token anyone can use. A token is
    refused after ``expires_at``, once its user is inactive, and once the user's
    password changes (``password_fingerprint`` no longer matches), however it changed.
    accounts/api/authentication.py checks all three; accounts/services.py issues and revokes.
    """

    PREFIX_LENGTH = 8

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(
        max_length=100, blank=True, help_text="What the token is for, e.g. the script or device that holds it."
    )
    key_hash = models.CharField(max_length=64, unique=True, editable=False, help_text="SHA-256 of the secret, hex.")
    prefix = models.CharField(
        max_length=PREFIX_LENGTH,
        editable=False,
        help_text="The secret's first characters, to tell tokens apart in logs.",
    )
    # An HMAC of the password hash at issue: a new password (page, reset, invitation, admin,
    # or a bulk UPDATE that bypassed every hook) makes the token stale.
    password_fingerprint = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False, help_text="To the nearest few minutes.")

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "API token"
        verbose_name_plural = "API tokens"
        constraints = [
            models.CheckConstraint(
                condition=Q(expires_at__gt=models.F("created_at")), name="apitoken_expires_after_created"
            ),
        ]

    def __str__(self):
        return f"{self.prefix}… ({self.user})"

    @staticmethod
    def hash_secret(secret: str) -> str:
        import hashlib

        return hashlib.sha256(secret.encode()).hexdigest()

    @staticmethod
    def password_fingerprint_of(user) -> str:
        from django.utils.crypto import salted_hmac

        return salted_hmac("accounts.ApiToken.password_fingerprint", user.password, algorithm="sha256").hexdigest()

    def is_valid(self, *, now) -> bool:
        """Unexpired, its user active, and issued under the user's current password."""
        from django.utils.crypto import constant_time_compare

        return (
            now < self.expires_at
            and self.user.is_active
            and constant_time_compare(self.password_fingerprint, self.password_fingerprint_of(self.user))
        )
