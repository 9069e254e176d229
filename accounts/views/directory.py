from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import render

from ..filters import MentorDirectoryFilter
from ..selectors import mentor_directory as mentor_directory_qs


@login_required
def mentor_directory(request):
    # The same selector and FilterSet as /api/v1/mentors/; nobody is listed to themselves.
    mentors = MentorDirectoryFilter(request.GET or None, queryset=mentor_directory_qs().exclude(user=request.user))
    page = Paginator(mentors.qs, 12).get_page(request.GET.get("page"))
    return render(
        request,
        "accounts/mentor_directory.html",
        {"filter": mentors, "page_obj": page, "mentors": page.object_list, "filtered": bool(request.GET.keys() - {"page"})},
    )
