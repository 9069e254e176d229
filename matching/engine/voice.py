"""Who reads a reason: the mentee themselves ("3 of your 4 goals") or a coordinator
reviewing the mentee's pairing ("3 of the resident's 4 goals")."""

from __future__ import annotations

from dataclasses import dataclass

MENTEE = "mentee"
COORDINATOR = "coordinator"


@dataclass(frozen=True)
class Voice:
    you: str  # subject and object: "you" / "the resident"
    your: str  # "your" / "the resident's"
    you_are: str  # "you are" / "the resident is"
    you_were: str  # "you were" / "the resident was"
    your_own: str  # "your own" / "their own"


VOICES = {
    MENTEE: Voice("you", "your", "you are", "you were", "your own"),
    COORDINATOR: Voice("the resident", "the resident's", "the resident is", "the resident was", "their own"),
}


def voice(audience: str) -> Voice:
    try:
        return VOICES[audience]
    except KeyError:
        raise ValueError(f"audience must be one of {', '.join(VOICES)}, got {audience!r}") from None
