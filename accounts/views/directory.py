from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import render

from matching import recommendations

from ..filters import MentorDirectoryFilter
from ..selectors import mentor_cards_prefetch
from ..selectors import mentor_directory as mentor_directory_qs

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
    listed = mentors.qs
    recommended = []
    if mentee is not None:
        # Scores need every filtered mentor, the cards only a page of them: read the sets scoring
        # uses in bulk, and prefetch the shown cards' relations once the page is cut. Prefetching
        # every card's relations cost seconds at 5,000 mentors.
        listed = list(listed.prefetch_related(None))
        me = recommendations.mentee_record(mentee)
        records = recommendations.mentor_records(listed)
        blocked = recommendations.exclusions_for(me, records)  # conflicts of interest, once for both
        scores = recommendations.scores_for(me, records, require_shared_availability=shared_time, exclusions=blocked)
        for profile in listed:
            profile.match_score = scores.get(profile.user_id)
        if sort == "score":
            listed.sort(key=lambda p: (-(p.match_score or 0), p.user.last_name, p.user.first_name, p.pk))
        if not filtered and request.GET.get("page", "1") == "1":
            # Unfiltered, the list is the whole directory: recommend from it.
            by_user = {p.user_id: p for p in listed}
            recommended = [(by_user[r.mentor_id], r) for r in recommendations.recommendations_for(me, records, n=3, exclusions=blocked)]
        if shared_time:
            listed = [p for p in listed if p.match_score is not None]

    page = Paginator(listed, 12).get_page(request.GET.get("page"))
    if mentee is not None:
        mentor_cards_prefetch([*page.object_list, *(profile for profile, _ in recommended)])
    return render(
        request,
        "accounts/mentor_directory.html",
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
