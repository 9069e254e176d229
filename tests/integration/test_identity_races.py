"""Two coordinators import the two halves of a look-alike pair at the same moment, on PostgreSQL.

Each import checks that no existing account looks like its new addresses, then creates them.
Without a lock both checks could pass before either commits, and ``gabriela.x@`` and
``gabrıela.x@`` (dotless ı) would both exist. ``core.locking.lock_account_creation`` (a transaction-scoped
advisory lock, taken before the check) makes the second import wait and then see the first's
account. The first import is held inside its transaction after its check
(``tests.integration.races``); the control takes the lock away, and nothing else, and shows
the race happens.
"""

import pytest

from accounts import roster
from accounts.models import Membership, User
from accounts.roster import roster_import_apply, roster_import_preview
from core import locking
from tests.factories import MembershipFactory, ProgramFactory, UserFactory
from tests.integration.races import hold_step, overlap

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

HEADER = "email,first_name,last_name,role,pgy,specialty,academic_rank,time_zone\n"
PAIR = ("gabriela.x@hospital.example", "gabrıela.x@hospital.example")


@pytest.fixture
def two_imports():
    """Two programs' coordinators, each with a file adding one half of the pair, previewed."""
    imports = []
    for address in PAIR:
        program = ProgramFactory()
        coordinator = UserFactory()
        MembershipFactory(user=coordinator, program=program, role=Membership.Role.COORDINATOR)
        kept = roster_import_preview(
            program=program,
            uploaded_by=coordinator,
            filename="r.csv",
            data=(HEADER + f"{address},Gabriela,X,resident,PGY-1,,,\n").encode(),
        )
        assert not kept.parsed["errors"]
        imports.append((kept, coordinator))
    return imports


def _apply(kept, coordinator):
    return lambda: roster_import_apply(roster_import=kept, actor=coordinator)


def test_the_second_import_waits_and_then_refuses_the_look_alike(monkeypatch, two_imports):
    # Held after its check, as it hashes the new person's unusable password.
    hold = hold_step(monkeypatch, roster, "make_password")
    (first, cora), (second, oscar) = two_imports

    outcomes, errors, blocked = overlap(_apply(first, cora), _apply(second, oscar), hold=hold)

    assert errors == []
    assert blocked == 1  # the second import waited on the lock
    assert outcomes[0] == "ok"
    assert outcomes[1].startswith("The file has 1 problem(s); nothing was imported.")
    assert list(User.objects.filter(email__in=PAIR).values_list("email", flat=True)) == [PAIR[0]]


def test_control_without_the_lock_both_halves_of_the_pair_get_in(monkeypatch, unlock, two_imports):
    unlock(locking.ACCOUNT_CREATION)
    hold = hold_step(monkeypatch, roster, "make_password")
    (first, cora), (second, oscar) = two_imports

    outcomes, errors, blocked = overlap(_apply(first, cora), _apply(second, oscar), hold=hold)

    assert errors == [] and blocked == 0
    assert outcomes == ["ok", "ok"]
    assert sorted(User.objects.filter(email__in=PAIR).values_list("email", flat=True)) == sorted(PAIR)
