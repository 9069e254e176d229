"""Institution administrators: an institution's programs and who runs them, in the product.

An institution administrator (``InstitutionRole``, role admin) creates and edits the
institution's programs, names each program's coordinators and the institution's other
administrators. Superusers pass every rule. Coordinators are not administrators: they run
one program, not the institution.

Services here are the only writers of these rows (programs, coordinator memberships,
institution roles) outside the Django admin and the demo seed. Each checks
``accounts.administer_institution`` first, whoever calls it (a page or the API).

Every service locks the institution's row first (``core.locking``: an institution above its
programs), so an institution's changes run one at a time: a double submit, or two
administrators at once, find the first one's program, coordinator or administrator, and the
second gets the plain refusal (or "already"), never a duplicate. Under that lock, and the
people's rows (``accounts.User``, by key), two invariants hold:
- a program that has a coordinator keeps at least one (add another before removing the last);
- an institution that has an administrator keeps at least one.
"""

import zoneinfo
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email, validate_slug
from django.db import IntegrityError, transaction
from django.db.models import Prefetch, QuerySet
from django.dispatch import Signal
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils.text import slugify

from audit.services import audit_log
from core.forms import max_length_of
from core.guards import require_perm
from core.locking import lock_account_creation, locked

from .models import Institution, InstitutionRole, Membership, Program, Specialty, User, identity_error
from .selectors import with_roster_counts
from .services import user_invite

ADMINISTER = "accounts.administer_institution"

# Sent in the transaction that made ``user`` a coordinator of ``program`` (``actor`` did),
# for the notification: accounts sits below matching and may not call ``notify`` itself.
program_coordinator_added = Signal()

_NAME_MAX = max_length_of(Program, "name")
_SLUG_MAX = max_length_of(Program, "slug")


# --- Reads.


def institutions_administered_by(user: User | AnonymousUser) -> QuerySet[Institution]:
    """The institutions ``user`` administers: every one for a superuser."""
    if not user.is_authenticated:
        return Institution.objects.none()
    if getattr(user, "is_superuser", False):
        return Institution.objects.all()
    return Institution.objects.filter(roles__user=user, roles__role=InstitutionRole.Role.ADMIN).distinct()


def institution_for(user: User | AnonymousUser, slug: str) -> Institution:
    """The institution of ``slug`` if ``user`` administers it. A member of one of its programs
    may know it exists (403); anyone else gets 404, as for another institution's programs."""
    institution = get_object_or_404(Institution, slug=slug)
    _check_administers(user, institution)
    return institution


def _lock_institution(institution: Institution, actor: User) -> Institution:
    """Lock ``institution``'s row, then check ``actor`` administers it (an administrator
    removed meanwhile is refused: the check reads the roles after the lock)."""
    institution = locked(Institution.objects).get(pk=institution.pk)
    require_perm(actor, ADMINISTER, institution)
    return institution


def _check_administers(user: User | AnonymousUser, institution: Institution) -> None:
    if not user.has_perm(ADMINISTER, institution):
        if user.is_authenticated and Membership.objects.filter(user=user, program__institution=institution).exists():
            raise PermissionDenied
        raise Http404


def program_administered(user: User | AnonymousUser, slug: str) -> Program:
    """The program of ``slug`` if ``user`` administers its institution; 403 for a member of one
    of the institution's programs, 404 for anyone else (as ``institution_for``)."""
    program = get_object_or_404(Program.objects.select_related("specialty", "institution"), slug=slug)
    institution_for(user, program.institution.slug)
    return program


def _coordinator_users() -> QuerySet[User]:
    return User.objects.order_by("last_name", "first_name", "pk")


def institution_programs(institution: Institution) -> QuerySet[Program]:
    """The institution's programs with their specialty, coordinators (``coordinator_memberships``,
    a list) and their head counts as every page shows them (``accounts.selectors.with_roster_counts``:
    ``member_count`` is the people on the roster, not roles)."""
    return (
        with_roster_counts(Program.objects.filter(institution=institution))
        .select_related("specialty", "institution")
        .prefetch_related(
            Prefetch(
                "memberships",
                queryset=Membership.objects.filter(role=Membership.Role.COORDINATOR)
                .select_related("user")
                .order_by("user__last_name", "user__first_name", "user__pk"),
                to_attr="coordinator_memberships",
            )
        )
        .order_by("name", "pk")
    )


def program_coordinators(program: Program) -> QuerySet[User]:
    return _coordinator_users().filter(memberships__program=program, memberships__role=Membership.Role.COORDINATOR)


def institution_admins(institution: Institution) -> QuerySet[User]:
    return _coordinator_users().filter(
        institution_roles__institution=institution, institution_roles__role=InstitutionRole.Role.ADMIN
    )


def specialty_choices() -> QuerySet[Specialty]:
    """What a program's specialty may be: the ACGME specialties, not their subspecialties."""
    return Specialty.objects.filter(parent__isnull=True).order_by("name")


def default_time_zone(institution: Institution) -> str:
    """A new program's time zone: the institution's first program's, else the site's."""
    first = Program.objects.filter(institution=institution).order_by("created_at", "pk").first()
    return first.time_zone if first else settings.TIME_ZONE


# --- Checks shared by create and update.


def _clean_program_fields(
    *, institution: Institution, name: str, specialty: Specialty | None, time_zone: str, exclude_pk: int | None = None
) -> str:
    """Plain errors beside each field; returns the name as stored (spaces trimmed)."""
    errors: dict[str, list[str]] = {}
    name = " ".join((name or "").split())
    if not name:
        errors["name"] = ["Give the program a name."]
    elif len(name) > _NAME_MAX:
        errors["name"] = [f"A program's name can be at most {_NAME_MAX} characters (this one has {len(name)})."]
    else:
        others = Program.objects.filter(institution=institution, name__iexact=name)
        if exclude_pk:
            others = others.exclude(pk=exclude_pk)
        if others.exists():
            errors["name"] = [f"{institution.name} already has a program called “{name}”."]
    if not isinstance(specialty, Specialty) or specialty.parent_id is not None:
        errors["specialty"] = ["Choose the program's specialty from the ACGME list."]
    if time_zone not in zoneinfo.available_timezones() or "/" not in (time_zone or ""):
        errors["time_zone"] = [f"“{time_zone}” is not a time zone we know. Choose one such as America/New_York."]
    if errors:
        raise ValidationError(errors)
    return name


def _clean_slug(slug: str, *, name: str) -> str:
    if slug:
        slug = slug.strip().lower()
        try:
            validate_slug(slug)
        except ValidationError:
            raise ValidationError(
                {"slug": ["Use only lower-case letters, digits and hyphens in the web address."]}
            ) from None
        if len(slug) > _SLUG_MAX:
            raise ValidationError({"slug": [f"The web address can be at most {_SLUG_MAX} characters."]})
        if Program.objects.filter(slug=slug).exists():
            raise ValidationError({"slug": [f"The web address “{slug}” is taken by another program: choose another."]})
        return slug
    # Derived: the name's slug, with -2, -3… when another program (of any institution) has it.
    base = slugify(name)[: _SLUG_MAX - 4].strip("-") or "program"
    candidate, n = base, 1
    while Program.objects.filter(slug=candidate).exists():
        n += 1
        candidate = f"{base}-{n}"
    return candidate


# --- Programs.


@transaction.atomic
def program_create(
    *, institution: Institution, actor: User, name: str, specialty: Specialty | None, time_zone: str, slug: str = ""
) -> Program:
    """A new program of ``institution``. Its slug (the web address) comes from the name unless
    given, and never changes afterwards. A double submit, or two administrators at once,
    create one program: the institution's row is locked meanwhile, so the second finds the
    name (or the slug) taken. The unique slug backs it against another institution's program
    created at the same moment."""
    institution = _lock_institution(institution, actor)
    # Every field's problem at once: the name's, the specialty's, the zone's and the slug's.
    errors: dict[str, list[str]] = {}
    try:
        name = _clean_program_fields(institution=institution, name=name, specialty=specialty, time_zone=time_zone)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    try:
        slug = _clean_slug(slug, name=name)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    assert specialty is not None  # checked above
    try:
        with transaction.atomic():
            program = Program.objects.create(
                institution=institution, name=name, slug=slug, specialty=specialty, time_zone=time_zone
            )
    except IntegrityError:
        raise ValidationError(
            {"slug": [f"The web address “{slug}” was just taken by another program: try again."]}
        ) from None
    audit_log(
        actor=actor,
        action="program.create",
        obj=program,
        program=program,
        after={"name": name, "slug": slug, "specialty": specialty.slug, "time_zone": time_zone},
    )
    return program


@transaction.atomic
def program_update(*, program: Program, actor: User, name: str, specialty: Specialty | None, time_zone: str) -> Program:
    """Rename a program, or change its specialty or time zone. The slug stays: links,
    bookmarks and API clients use it."""
    _lock_institution(program.institution, actor)
    program = Program.objects.select_related("institution", "specialty").get(pk=program.pk)
    name = _clean_program_fields(
        institution=program.institution, name=name, specialty=specialty, time_zone=time_zone, exclude_pk=program.pk
    )
    assert specialty is not None  # checked above
    before = {"name": program.name, "specialty": program.specialty.slug, "time_zone": program.time_zone}
    after = {"name": name, "specialty": specialty.slug, "time_zone": time_zone}
    changed = [field for field in before if before[field] != after[field]]
    if not changed:
        return program
    program.name, program.specialty, program.time_zone = name, specialty, time_zone
    program.save(update_fields=changed)
    audit_log(
        actor=actor,
        action="program.update",
        obj=program,
        program=program,
        before={f: before[f] for f in changed},
        after={f: after[f] for f in changed},
    )
    return program


# --- People: coordinators and administrators.


@dataclass(frozen=True)
class PersonAdded:
    user: User
    added: bool  # False: they already held the role
    account_created: bool  # True: a new account, sent the invitation to set a password


def _person_for_email(*, email: str, first_name: str, last_name: str, actor: User) -> tuple[User, bool]:
    """The account ``email`` names, or a new one (unusable password until the invitation)."""
    email = (email or "").strip()
    try:
        validate_email(email)
    except ValidationError:
        raise ValidationError({"email": ["Enter an e-mail address such as name@hospital.org."]}) from None
    user = User.objects.by_email(email)
    if user is not None:
        return user, False
    errors = {}
    if not (first_name or "").strip():
        errors["first_name"] = ["Nobody has an account with this address yet: give their first name to invite them."]
    if not (last_name or "").strip():
        errors["last_name"] = ["Nobody has an account with this address yet: give their last name to invite them."]
    for field, value in (("first_name", first_name), ("last_name", last_name)):
        if len((value or "").strip()) > max_length_of(User, field):
            errors[field] = [f"At most {max_length_of(User, field)} characters."]
    if errors:
        raise ValidationError(errors)
    lock_account_creation()
    if (problem := identity_error(email)) is not None:
        raise ValidationError({"email": problem.messages})
    user = User(
        email=email.lower(),
        first_name=first_name.strip(),
        last_name=last_name.strip(),
        time_zone=actor.time_zone,
        password=make_password(None),
    )
    user.save()
    return user, True


def _lock_people(queryset: QuerySet[User]) -> list[User]:
    return list(locked(queryset.order_by("pk")))


def _lock_person(holders: QuerySet[User], user: User) -> User:
    """Lock the people who hold a role now and ``user``, by key; ``user`` as locked (whether
    they are still active is read under the lock)."""
    people = _lock_people(holders | User.objects.filter(pk=user.pk))
    return next(person for person in people if person.pk == user.pk)


@transaction.atomic
def program_coordinator_add(
    *, program: Program, actor: User, email: str, first_name: str = "", last_name: str = ""
) -> PersonAdded:
    """Make the person with ``email`` a coordinator of ``program``: an existing account is
    added at once (an administrator's decision, like the Django admin's); for an unknown address
    an account is created and sent the roster's invitation. The person is notified once this
    commits. Adding someone who is already a coordinator changes nothing, twice at once too."""
    _lock_institution(program.institution, actor)
    user, created = _person_for_email(email=email, first_name=first_name, last_name=last_name, actor=actor)
    user = _lock_person(program_coordinators(program), user)
    if not user.is_active:
        raise ValidationError({"email": ["This account is deactivated: it cannot coordinate a program."]})
    membership, added = Membership.objects.get_or_create(user=user, program=program, role=Membership.Role.COORDINATOR)
    if added:
        audit_log(
            actor=actor,
            action="program.coordinator_add",
            obj=membership,
            program=program,
            after={"user": user.pk, "role": Membership.Role.COORDINATOR, "new_account": created},
        )
        if created:
            user_invite(user=user, invited_by=actor)
        program_coordinator_added.send(sender=Membership, membership=membership, actor=actor, new_account=created)
    return PersonAdded(user=user, added=added, account_created=created)


@transaction.atomic
def program_coordinator_remove(*, program: Program, actor: User, user: User) -> None:
    """``user`` stops coordinating ``program`` (their other roles stay). The last coordinator
    cannot be removed: a program always has someone to run it once it has had one."""
    _lock_institution(program.institution, actor)
    coordinators = _lock_people(program_coordinators(program))
    if user.pk not in {c.pk for c in coordinators}:
        raise ValidationError(f"{user.full_name or user.email} does not coordinate {program.name}.")
    if len(coordinators) == 1:
        raise ValidationError(
            f"{user.full_name or user.email} is the only coordinator of {program.name}: add another one first."
        )
    membership = Membership.objects.get(user=user, program=program, role=Membership.Role.COORDINATOR)
    audit_log(
        actor=actor,
        action="program.coordinator_remove",
        obj=membership,
        program=program,
        before={"user": user.pk, "role": Membership.Role.COORDINATOR},
    )
    membership.delete()


@transaction.atomic
def institution_admin_add(
    *, institution: Institution, actor: User, email: str, first_name: str = "", last_name: str = ""
) -> PersonAdded:
    """Make the person with ``email`` an administrator of ``institution`` (a new account is
    invited as for coordinators). Adding someone who already administers it changes nothing."""
    institution = _lock_institution(institution, actor)
    user, created = _person_for_email(email=email, first_name=first_name, last_name=last_name, actor=actor)
    user = _lock_person(institution_admins(institution), user)
    if not user.is_active:
        raise ValidationError({"email": ["This account is deactivated: it cannot administer an institution."]})
    role, added = InstitutionRole.objects.get_or_create(
        institution=institution, user=user, role=InstitutionRole.Role.ADMIN, defaults={"created_by": actor}
    )
    if added:
        audit_log(
            actor=actor,
            action="institution.admin_add",
            obj=role,
            after={"institution": institution.slug, "user": user.pk, "new_account": created},
        )
        if created:
            user_invite(user=user, invited_by=actor)
    return PersonAdded(user=user, added=added, account_created=created)


@transaction.atomic
def institution_admin_remove(*, institution: Institution, actor: User, user: User) -> None:
    """``user`` stops administering ``institution``. The last administrator cannot be removed
    (in practice: the last one removing themselves; superusers use the Django admin)."""
    institution = _lock_institution(institution, actor)
    admins = _lock_people(institution_admins(institution))
    if user.pk not in {a.pk for a in admins}:
        raise ValidationError(f"{user.full_name or user.email} does not administer {institution.name}.")
    if len(admins) == 1:
        who = "You are" if user.pk == actor.pk else f"{user.full_name or user.email} is"
        raise ValidationError(f"{who} the only administrator of {institution.name}: add another one first.")
    role = InstitutionRole.objects.get(institution=institution, user=user, role=InstitutionRole.Role.ADMIN)
    audit_log(
        actor=actor,
        action="institution.admin_remove",
        obj=role,
        before={"institution": institution.slug, "user": user.pk},
    )
    role.delete()
