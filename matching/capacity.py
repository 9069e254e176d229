"""A mentor's load against their capacity, and how it is said: on the dashboard, on their
profile, when they save a lower capacity, and when an accept is refused for want of a spot.

Capacity bounds new mentorships only: lowering it below the mentees one has ends nobody's
mentorship, it stops new requests until enough have ended."""

from dataclasses import dataclass


def _mentees(n: int) -> str:
    return f"{n} mentee{'' if n == 1 else 's'}"


@dataclass(frozen=True)
class Load:
    taken: int  # active mentorships as mentor
    capacity: int
    accepting: bool = True

    @property
    def free(self) -> int:
        return max(self.capacity - self.taken, 0)

    @property
    def is_full(self) -> bool:
        return self.taken >= self.capacity

    @property
    def is_over(self) -> bool:
        return self.taken > self.capacity

    @property
    def state(self) -> str:
        """``not_accepting``, ``over``, ``full`` or ``accepting``: what residents can do now."""
        if not self.accepting:
            return "not_accepting"
        if self.is_over:
            return "over"
        if self.is_full:
            return "full"
        return "accepting"

    @property
    def over_text(self) -> str:
        """ "Over capacity: 3 mentees, capacity 1"."""
        return f"Over capacity: {_mentees(self.taken)}, capacity {self.capacity}"


def capacity_saved_note(load: Load) -> str:
    """What saving a capacity below one's current mentees means, said to the mentor; empty
    otherwise (a full mentor is told on the dashboard, not on every save of their bio)."""
    if load.is_over:
        if load.capacity == 0:
            until = "while your capacity is 0"
        elif load.capacity == 1:
            until = "until your current mentorships have ended"
        else:
            until = f"until you have fewer than {_mentees(load.capacity)}"
        return (
            f"You have {_mentees(load.taken)}, more than your new capacity of {load.capacity}: "
            f"your current mentorships go on; you will get no new requests {until}."
        )
    return ""


def full_refusal_for_mentor(load: Load) -> str:
    """Why the mentor cannot accept one more, in the second person (``mentorship_create`` says it
    of them, in the third, to a coordinator)."""
    return (
        f"You have no open spot left ({load.taken} of {load.capacity} taken): raise your capacity "
        "on your mentor profile to accept, or decline with a note."
    )
