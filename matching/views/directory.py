"""The mentor directory page: every mentor, filtered, and for a resident scored by the engine."""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import path

from accounts.filters import MentorDirectoryFilter
from accounts.models import MenteeProfile

from .. import directory_mentors, recommendations
from ..selectors.directory import mentor_cards, relations_to_mentors, use_kept_filter_choices, with_card_lists
from ..selectors.directory import mentor_directory as mentor_directory_qs

SORTS = {"score": "Best fit", "name": "Name"}
RECOMMENDED = 3  # on the first page, per program


@login_required
def mentor_directory(request):
    """The directory: the same selector and FilterSet as /api/v1/mentors/. For a resident
    with a mentee profile, mentors carry the engine's match score, sort by it, and the
    first page opens with the engine's recommendations."""
    directory = mentor_directory_qs().exclude(user=request.user)
    mentors = MentorDirectoryFilter(request.GET or None, queryset=directory)
    # The filters' help texts are written for the API's schema ("Goal slug, e.g. …"): on the
    # page, the labels and choices speak for themselves.
    for field in mentors.form.fields.values():
        field.help_text = ""
    mentee = _mentee_profile(request.user)
    sort = request.GET.get("sort") if request.GET.get("sort") in SORTS else ("score" if mentee else "name")
    shared_time = request.GET.get("shared_time") == "1"

    filtered = bool(request.GET.keys() - {"page", "sort"})
    # A filter the form refuses (a search of too many words) shows its error and no list:
    # django-filter would drop the bad filter and list every mentor as if they matched.
    matching = mentors.qs if mentors.form.is_valid() or not mentors.is_bound else directory.none()
    recommended, recommended_groups = [], []
    if mentee is None:
        page = Paginator(matching.prefetch_related(None), 12).get_page(request.GET.get("page"))
        with_card_lists(page.object_list)
    else:
        page, recommended_groups = _scored_page(
            request, mentee, matching, sort=sort, shared_time=shared_time, filtered=filtered
        )
        recommended = [pick for group in recommended_groups for pick in group["picks"]]
    relations = relations_to_mentors(request.user)
    for profile in [*page.object_list, *(profile for profile, _pair in recommended)]:
        profile.relation = relations.get(profile.user_id, "")
    return render(
        request,
        "matching/directory/page.html",
        {
            "filter": mentors,
            "filter_fields": _filter_fields(mentors.form),
            "page_obj": page,
            "mentors": page.object_list,
            "filtered": filtered,
            "sort": sort,
            "sorts": SORTS if mentee else {},
            "shared_time": shared_time,
            "has_mentee_profile": mentee is not None,
            "recommended": recommended,
            "recommended_groups": recommended_groups,
            # Recommendations were looked for (the unfiltered first page) and none was found: say why.
            "none_recommended": mentee is not None and not filtered and page.number == 1 and not recommended,
        },
    )


# (version of the kept choice lists, HTML) of the last unbound filter form this process rendered.
_unbound_fields: tuple[str, str] | None = None


def _filter_fields(form) -> str:
    """The filter form's fields as HTML. Without a query string they are the same for everyone
    until a vocabulary changes (a new version of the kept choice lists): rendered once per process."""
    global _unbound_fields
    version = use_kept_filter_choices(form)
    if not form.is_bound and version is not None and _unbound_fields and _unbound_fields[0] == version:
        return _unbound_fields[1]
    html = render_to_string("matching/directory/_filter_fields.html", {"form": form})
    if not form.is_bound and version is not None:
        _unbound_fields = (version, html)
    return html


def _mentee_profile(user) -> MenteeProfile | None:
    """``user.mentee_profile`` with its career stage (the record needs its order), in one query."""
    mentee = MenteeProfile.objects.select_related("career_stage").filter(user=user).first()
    if mentee is not None:
        user.mentee_profile = mentee  # kept on the user, for the navigation's role check
    return mentee


def _scored_page(request, mentee, directory, *, sort, shared_time, filtered):
    """The page of cards and the recommended (profile, pair) for a resident. Scores need every
    filtered mentor, the cards only a page of them: score the directory's mentors (prepared once
    and kept across requests, ``matching.directory_mentors``) in one vectorised call, sort and cut
    the page, and only then load the shown profiles (the page's 12 and the 3 recommended) as
    cards, read fresh."""
    kept = directory_mentors.directory_mentors()
    if not filtered:
        rows = kept.rows_for(exclude_user_id=request.user.pk)
    elif directory.query.is_empty():
        rows = []
    else:
        # The filters run in the database, as for the API: only which mentors pass is read.
        passing = set(directory.order_by().prefetch_related(None).values_list("user_id", flat=True))
        rows = kept.rows_for(exclude_user_id=request.user.pk, user_ids=passing)
    clock = recommendations.clock_for(request.user)
    programs = recommendations.resident_programs(request.user)
    # The first program's specialty scores the list; each program gets its own recommendations.
    me, *others = directory_mentors.mentee_records(mentee, programs)
    blocked = directory_mentors.exclusions(me, kept)  # conflicts of interest, current mentors
    scores = directory_mentors.scores(me, kept, require_shared_availability=shared_time, exclusions=blocked)
    if sort == "score":
        rows = kept.by_score(rows, scores)
    groups = []
    if not filtered and request.GET.get("page", "1") == "1":
        # Unfiltered, the list is the whole directory: recommend from it. A few more than three,
        # for the cards to re-check their open spots below (``still_open``).
        groups.append(
            (
                programs[0] if programs else None,
                directory_mentors.recommend(me, kept, n=RECOMMENDED, exclusions=blocked, clock=clock),
            )
        )
        for program, other in zip(programs[1:], others, strict=True):
            if program.specialty_id == me.specialty_id:
                continue
            groups.append(
                (program, directory_mentors.recommend(other, kept, n=RECOMMENDED, exclusions=blocked, clock=clock))
            )
    picks = [pair for _program, pairs in groups for pair in pairs]
    if shared_time:
        rows = [r for r in rows if scores.get(r.user_id) is not None]

    page = Paginator(rows, 12).get_page(request.GET.get("page"))
    profile_ids = kept.profile_ids
    cards = mentor_cards(
        [r.profile_id for r in page.object_list]
        + [profile_ids[p.mentor_id] for p in picks if p.mentor_id in profile_ids]
    )
    shown = []
    for row in page.object_list:
        if row.profile_id in cards:  # not if the profile left the directory since its row was read
            profile = cards[row.profile_id]
            profile.match_score = scores.get(row.user_id)
            shown.append(profile)
    page.object_list = shown

    def still_open(pair):
        # The cards were read now: capacity as it is, whatever the kept arrays last saw.
        card = cards.get(profile_ids.get(pair.mentor_id))
        return card is not None and card.accepting_mentees and card.open_spots > 0

    recommended_groups = [
        {
            "program": program if len(groups) > 1 else None,
            "picks": [(cards[profile_ids[pair.mentor_id]], pair) for pair in pairs if still_open(pair)][:RECOMMENDED],
        }
        for program, pairs in groups
    ]
    return page, recommended_groups


urlpatterns = [path("mentors/", mentor_directory, name="mentor-directory")]
