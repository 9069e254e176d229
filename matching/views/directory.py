"""The mentor directory page: every mentor, filtered, and for a resident scored by the engine."""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import render
from django.urls import path

from accounts.filters import MentorDirectoryFilter

from .. import recommendations
from ..selectors.directory import mentor_cards
from ..selectors.directory import mentor_directory as mentor_directory_qs

SORTS = {"score": "Best match", "name": "Name"}


@login_required
def mentor_directory(request):
    """The directory: the same selector and FilterSet as /api/v1/mentors/. For a resident
    with a mentee profile, mentors carry the engine's match score, sort by it, and the
    first page opens with the engine's recommendations."""
    directory = mentor_directory_qs().exclude(user=request.user)
    mentors = MentorDirectoryFilter(request.GET or None, queryset=directory)
    mentee = getattr(request.user, "mentee_profile", None)
    sort = request.GET.get("sort") if request.GET.get("sort") in SORTS else ("score" if mentee else "name")
    shared_time = request.GET.get("shared_time") == "1"

    filtered = bool(request.GET.keys() - {"page", "sort"})
    # A filter the form refuses (a search of too many words) shows its error and no list:
    # django-filter would drop the bad filter and list every mentor as if they matched.
    matching = mentors.qs if mentors.form.is_valid() or not mentors.is_bound else directory.none()
    recommended = []
    if mentee is None:
        page = Paginator(matching, 12).get_page(request.GET.get("page"))
    else:
        page, recommended = _scored_page(
            request, mentee, matching, sort=sort, shared_time=shared_time, filtered=filtered
        )
    return render(
        request,
        "matching/directory/page.html",
        {
            "filter": mentors,
            "page_obj": page,
            "mentors": page.object_list,
            "filtered": filtered,
            "sort": sort,
            "sorts": SORTS if mentee else {},
            "shared_time": shared_time,
            "has_mentee_profile": mentee is not None,
            "recommended": recommended,
        },
    )


def _scored_page(request, mentee, directory, *, sort, shared_time, filtered):
    """The page of cards and the recommended (profile, pair) for a resident. Scores need every
    filtered mentor, the cards only a page of them: score plain rows, sort and cut the page,
    and only then load the shown profiles (the page's 12 and the 3 recommended) as cards.
    Building every mentor's profile instance cost most of the page at 5,000 mentors."""
    rows, records = recommendations.mentor_records(directory)
    me = recommendations.mentee_record(mentee)
    blocked = recommendations.exclusions_for(me, records)  # conflicts of interest, once for both
    scores = recommendations.scores_for(me, records, require_shared_availability=shared_time, exclusions=blocked)
    if sort == "score":
        rows.sort(key=lambda r: (-(scores.get(r.user_id) or 0), r.last_name, r.first_name, r.profile_id))
    picks = []
    if not filtered and request.GET.get("page", "1") == "1":
        # Unfiltered, the list is the whole directory: recommend from it.
        # The scores above serve: the engine explains only the mentors who can make the three.
        picks = recommendations.recommendations_for(me, records, n=3, exclusions=blocked, scores=scores)
    if shared_time:
        rows = [r for r in rows if scores.get(r.user_id) is not None]

    page = Paginator(rows, 12).get_page(request.GET.get("page"))
    profile_ids = {r.user_id: r.profile_id for r in rows}
    cards = mentor_cards([r.profile_id for r in page.object_list] + [profile_ids[pair.mentor_id] for pair in picks])
    shown = []
    for row in page.object_list:
        if row.profile_id in cards:  # not if the profile left the directory since its row was read
            profile = cards[row.profile_id]
            profile.match_score = scores.get(row.user_id)
            shown.append(profile)
    page.object_list = shown
    recommended = [(cards[profile_ids[pair.mentor_id]], pair) for pair in picks if profile_ids[pair.mentor_id] in cards]
    return page, recommended


urlpatterns = [path("mentors/", mentor_directory, name="mentor-directory")]
