"""Reasons in plain words: the actual career stages, and when the two are both free, on the
reader's clock. Without the names or a clock, the engine says what it can (counts, hours)."""

from matching.engine import Clock, MenteeRecord, MentorRecord, Vocabulary, explain_pair, recommend
from matching.engine.scoring import shared_times_text

TUESDAY = 1
STAGES = Vocabulary(stages={2: "PGY-1", 3: "PGY-2", 5: "PGY-4", 10: "Associate Professor"})


def _reason(pair, name):
    return next(c.reason for c in pair.components if c.name == name)


def test_career_reason_names_the_actual_stages():
    mentee = MenteeRecord(id=1, stage_order=2)
    attending = MentorRecord(id=2, stage_order=10, title="Associate Professor")
    assert _reason(explain_pair(mentee, attending, vocabulary=STAGES), "career") == "Associate Professor; you are PGY-1"
    near_peer = MentorRecord(id=3, stage_order=3, title="PGY-2")
    assert _reason(explain_pair(mentee, near_peer, vocabulary=STAGES), "career") == "PGY-2; you are PGY-1 (near-peer)"
    coordinator = explain_pair(mentee, attending, vocabulary=STAGES, audience="coordinator")
    assert _reason(coordinator, "career") == "Associate Professor; the resident is PGY-1"


def test_career_reason_counts_stages_without_names():
    mentee = MenteeRecord(id=1, stage_order=2)
    assert _reason(explain_pair(mentee, MentorRecord(id=2, stage_order=10)), "career") == "8 stages ahead of you"


def test_time_in_common_says_when_on_the_readers_clock():
    # Tuesday 17:00–18:00 UTC: 9–10 am in Los Angeles in winter, 6–7 pm in Madrid.
    mentee = MenteeRecord(id=1, weekly_windows=[(TUESDAY, 16 * 60, 19 * 60)])
    mentor = MentorRecord(id=2, weekly_windows=[(TUESDAY, 17 * 60, 18 * 60)])
    madrid = explain_pair(mentee, mentor, clock=Clock(offset_minutes=60))
    assert _reason(madrid, "availability") == "1 h a week in common: Tue 6–7 pm your time"
    los_angeles = explain_pair(mentee, mentor, clock=Clock(offset_minutes=-8 * 60, label="in Los Angeles"))
    assert _reason(los_angeles, "availability") == "1 h a week in common: Tue 9–10 am in Los Angeles"
    assert _reason(explain_pair(mentee, mentor), "availability") == "1 h a week in common"
    # The score does not depend on the clock.
    assert madrid.score == explain_pair(mentee, mentor).score


def test_recommendations_carry_the_clock():
    mentee = MenteeRecord(id=1, weekly_windows=[(TUESDAY, 17 * 60, 18 * 60)])
    [pair] = recommend(mentee, [MentorRecord(id=2, weekly_windows=[(TUESDAY, 17 * 60, 18 * 60)])], clock=Clock(60))
    assert _reason(pair, "availability") == "1 h a week in common: Tue 6–7 pm your time"


def test_shared_times_wrap_the_week_and_say_how_many_more():
    slots = lambda first, stop: set(range(first // 15, stop // 15))  # noqa: E731 (minutes of the week)
    sunday_night = slots(6 * 1440 + 23 * 60, 7 * 1440) | slots(0, 60)
    assert shared_times_text(sunday_night, Clock(0)) == "Sun 11 pm–Mon 1 am your time"
    three = slots(600, 660) | slots(1440 + 600, 1440 + 720) | slots(2 * 1440 + 600, 2 * 1440 + 630)
    assert shared_times_text(three, Clock(0)) == "Mon 10–11 am and Tue 10 am–12 pm your time, and 1 more"
