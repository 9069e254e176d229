"""The match runs API: coordinators create, follow, review and publish cohort matches;
cohort members submit their confidential ranking while the window is open.

The same reads and writes (``matching.match_runs``) and rules
(``matching.rules``) as the pages:
- a run (or proposal) of a program the caller does not coordinate answers 404;
- a service's refusal answers 400 (field keys when it names a field, else ``{"detail": ...}``),
  or 409 when the run's state no longer allows it (already published, a pair no longer fits);
- a ranking is its author's alone: anyone else, coordinators included, gets 404.
"""

from django.shortcuts import get_object_or_404
from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import generics, serializers, status
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.response import Response

from accounts.models import User
from core.access import ProgramScopedApi, check_object, object_for
from core.api.errors import ServiceErrorSerializer, service_refusals
from core.api.permissions import RulesPermission
from core.bounds import MAX_ID, SCHEDULED
from core.forms import max_length_of

from ..match_runs import selectors as run_selectors
from ..match_runs import services as run_services
from ..match_runs.freshness import run_changes
from ..match_runs.ranking import ranking_submit
from ..models import Kind, MatchProposal, MatchRun
from ..rules import is_in_run_cohort

# --- Shapes.

# A cohort is one program's residents or mentors: a list longer than any program is refused unread.
MAX_COHORT = 10_000


class MatchPersonSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    full_name = serializers.CharField(read_only=True)


class MatchRunSerializer(serializers.ModelSerializer):
    program = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    mentee_ids = serializers.SerializerMethodField(help_text="The cohort's residents (user ids).")
    mentor_ids = serializers.SerializerMethodField(help_text="The cohort's mentors (user ids).")
    weights = serializers.DictField(child=serializers.FloatField(), read_only=True)
    stats = serializers.DictField(
        read_only=True, help_text="Once succeeded: matched, unmatched, total_score, worst_score, mentor_load, …"
    )
    parent = serializers.IntegerField(source="parent_id", read_only=True, allow_null=True)
    rerun_of = serializers.IntegerField(source="rerun_of_id", read_only=True, allow_null=True)
    ranking_window_open = serializers.SerializerMethodField()
    extra_spots = serializers.DictField(
        child=serializers.IntegerField(), read_only=True, help_text="{mentor id: spots added for this run only}."
    )
    out_of_date = serializers.SerializerMethodField(
        help_text="What changed since the run was computed (empty: up to date). An out-of-date run cannot be "
        "accepted or published: re-run or archive it. Null in the list of runs (it costs queries per run): "
        "ask the run itself."
    )

    class Meta:
        model = MatchRun
        fields = [
            "id",
            "program",
            "kind",
            "algorithm",
            "weights",
            "mentee_ids",
            "mentor_ids",
            "status",
            "progress",
            "stats",
            "error",
            "ranking_deadline",
            "ranking_window_open",
            "round",
            "parent",
            "rerun_of",
            "extra_spots",
            "out_of_date",
            "archived_at",
            "created_at",
            "started_at",
            "finished_at",
            "published_at",
        ]
        read_only_fields = fields

    def get_mentee_ids(self, run) -> list[int]:
        return sorted(user.pk for user in run.mentees.all())

    def get_mentor_ids(self, run) -> list[int]:
        return sorted(user.pk for user in run.mentors.all())

    def get_ranking_window_open(self, run) -> bool:
        return run.ranking_window_open()

    def get_out_of_date(self, run) -> list[str] | None:
        return run_changes(run) if self.context.get("one_run") else None


class PublishOutcomeSerializer(serializers.Serializer):
    """One way of publishing the run now, with what it does (the review's publish panel)."""

    accept_waiting = serializers.SerializerMethodField(
        help_text="The value of the publish call's accept_waiting that does this."
    )
    publishes = serializers.IntegerField(help_text="Pairings this way starts.")
    left_without = serializers.IntegerField(help_text="Residents this way tells they have no mentor from this match.")

    def get_accept_waiting(self, outcome) -> bool:
        return outcome.waiting == run_selectors.PUBLISH_ACCEPTING


class PublishedPairsSerializer(serializers.Serializer):
    """What publishing started: the pairs made (accepted or overridden) and the proposals it left out."""

    pairs = serializers.IntegerField(help_text="Pairings publishing started.")
    rank_distribution = serializers.SerializerMethodField(
        help_text="{choice obtained: residents who ranked}, over the accepted pairs."
    )
    matched_by_score = serializers.IntegerField(help_text="Accepted pairs whose resident did not rank.")
    chosen_by_override = serializers.IntegerField(help_text="Pairs the coordinator chose (overridden).")
    score_distribution = serializers.SerializerMethodField(help_text='{"40–50": pairs}, by the score each shows.')
    scored = serializers.IntegerField()
    not_decided = serializers.IntegerField(help_text="Proposed pairs still waiting when published: not published.")
    rejected = serializers.IntegerField(help_text="Proposed pairs rejected: not published.")

    def get_rank_distribution(self, s) -> dict[str, int]:
        return {str(place): n for place, n in s.rank_distribution}

    def get_score_distribution(self, s) -> dict[str, int]:
        return dict(s.score_distribution)


class ReviewSummarySerializer(serializers.Serializer):
    """The counts the review page shows (``selectors.review_summary``)."""

    proposals = serializers.IntegerField()
    proposed_matched = serializers.IntegerField()
    proposed_unmatched = serializers.IntegerField()
    pending = serializers.IntegerField()
    pending_unmatched = serializers.IntegerField()
    accepted = serializers.IntegerField()
    overridden = serializers.IntegerField()
    rejected = serializers.IntegerField()
    will_pair = serializers.IntegerField(help_text="Accepted + overridden: publishing pairs them.")
    left_without = serializers.IntegerField(help_text="Residents publishing leaves without a mentor.")
    rankers = serializers.IntegerField()
    rank_distribution = serializers.SerializerMethodField(help_text="{choice obtained: residents who ranked}.")
    matched_by_score = serializers.IntegerField()
    score_distribution = serializers.SerializerMethodField(
        help_text='{"40–50": pairs}, by the score each proposal shows: the proposed pair\'s, or once overridden '
        "the pair the override makes (explanation.override_fit.score)."
    )
    low_score = serializers.IntegerField(help_text="Of those, how many score below 40 (as shown, rounded).")
    scored = serializers.IntegerField(help_text="Proposals with a score: the score distribution's total.")
    worst_score = serializers.FloatField(allow_null=True, help_text="The lowest of those scores.")
    mentor_load = serializers.SerializerMethodField()
    published = serializers.BooleanField()
    publish_outcomes = PublishOutcomeSerializer(
        many=True,
        help_text="Every way the run can be published now, with what each does: one way when no proposal waits for "
        "a decision, two when some do (accept them first, or publish only the decided). Empty once published, or "
        "when nothing would be paired.",
    )
    published_pairs = PublishedPairsSerializer(
        allow_null=True, help_text="Once published, what publishing started; null before."
    )

    def get_rank_distribution(self, s) -> dict[str, int]:
        return {str(place): n for place, n in s.rank_distribution}

    def get_score_distribution(self, s) -> dict[str, int]:
        return dict(s.score_distribution)

    def get_mentor_load(self, s) -> list[dict]:
        return [
            {
                "mentor_id": r.mentor_id,
                "name": r.name,
                "capacity": r.capacity,
                "active": r.active,
                "extra": r.extra,
                "spots": r.spots,
                "proposed": r.proposed,
                "holding": r.holding,
                "will_pair": r.will_pair,
            }
            for r in s.mentor_load
        ]


class MatchRunCreateSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=Kind.choices)
    algorithm = serializers.ChoiceField(choices=MatchRun.Algorithm.choices, default=MatchRun.Algorithm.STABLE)
    mentee_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID),
        min_length=1,
        max_length=MAX_COHORT,
        help_text="Residents' user ids.",
    )
    mentor_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID),
        min_length=1,
        max_length=MAX_COHORT,
        help_text="Mentors' user ids.",
    )
    weights = serializers.DictField(
        child=serializers.FloatField(min_value=0),
        required=False,
        default=dict,
        help_text="Component weights (specialty, goals, interests, career, availability, language, meeting_format); "
        "missing ones keep the defaults.",
    )
    ranking_deadline = serializers.DateTimeField(
        required=False,
        allow_null=True,
        default=None,
        help_text="Open a ranking window until then (at most two years ahead); the run starts after it. "
        "Without it the run starts now.",
    )

    def validate_ranking_deadline(self, deadline):
        SCHEDULED.check_instant(deadline, zone=self.context["request"].user.time_zone)
        return deadline


class MatchProposalSerializer(serializers.ModelSerializer):
    run = serializers.IntegerField(source="run_id", read_only=True)
    mentee = MatchPersonSerializer(read_only=True)
    mentor = MatchPersonSerializer(
        read_only=True, allow_null=True, help_text="The engine's proposal (null: unmatched)."
    )
    override_mentor = MatchPersonSerializer(read_only=True, allow_null=True)
    final_mentor_id = serializers.IntegerField(read_only=True, allow_null=True, help_text="Who publishing would pair.")
    explanation = serializers.DictField(
        read_only=True,
        help_text='The proposed pair: {"score": … (the run\'s weights), "fit": … (the standard weights), '
        '"components": [{name, label, reason, …}]}. Once overridden, also "override_fit": the same for the '
        'resident with override_mentor ({"mentor": id, "score", "fit", "components"}).',
    )
    decided_by = MatchPersonSerializer(read_only=True, allow_null=True)

    class Meta:
        model = MatchProposal
        fields = [
            "id",
            "run",
            "mentee",
            "mentor",
            "score",
            "rank_obtained",
            "mentor_rank",
            "explanation",
            "why_not",
            "decision",
            "override_mentor",
            "final_mentor_id",
            "decision_note",
            "decided_by",
            "decided_at",
        ]
        read_only_fields = fields


class ProposalDecideSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(
        choices=[(MatchProposal.Decision.ACCEPTED, "Accepted"), (MatchProposal.Decision.REJECTED, "Rejected")]
    )
    note = serializers.CharField(
        max_length=max_length_of(MatchProposal, "decision_note"), required=False, allow_blank=True, default=""
    )


class ProposalOverrideSerializer(serializers.Serializer):
    mentor_id = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.all(),
        help_text="A mentor of the run's cohort with a spot left.",
        error_messages={"does_not_exist": "Person #{pk_value} is not a mentor in this match."},
    )
    note = serializers.CharField(
        max_length=max_length_of(MatchProposal, "decision_note"),
        help_text="Why you are changing this pairing (logged).",
    )
    make_room = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=40,
        help_text='When the mentor has no spot left in this run: "raise" gives them one more spot for this run, '
        '"displace:<proposal id>" rejects that other proposal holding one of their spots. Without it, such an '
        "override is refused (400, on make_room).",
    )

    def get_fields(self):
        fields = super().get_fields()
        if proposal := self.context.get("proposal"):
            # The run's cohort only: anyone else's id is refused without saying who it is.
            fields["mentor_id"].queryset = proposal.run.mentors.all()
        return fields


class MyRankingSerializer(serializers.Serializer):
    ordered_ids = serializers.ListField(
        child=serializers.IntegerField(),
        default=list,
        help_text="User ids, best first (residents rank mentors, "
        "mentors rank residents). Anyone left out of both lists is not acceptable to you.",
    )
    never_ids = serializers.ListField(
        child=serializers.IntegerField(), default=list, help_text="Never pair me with these."
    )
    ranking_deadline = serializers.DateTimeField(read_only=True, allow_null=True)
    window_open = serializers.BooleanField(read_only=True)


class MatchRunCancelSerializer(serializers.Serializer):
    reason = serializers.CharField(
        max_length=500, required=False, allow_blank=True, default="", help_text="Why (kept in the audit log)."
    )


class RunSummarySerializer(serializers.Serializer):
    run = serializers.IntegerField(source="run.pk")
    algorithm = serializers.CharField(source="run.algorithm")
    mentees = serializers.IntegerField()
    matched = serializers.IntegerField()
    unmatched = serializers.IntegerField()
    total_score = serializers.FloatField()
    average_score = serializers.FloatField(allow_null=True)
    worst_score = serializers.FloatField(allow_null=True, help_text="The worst-off matched resident's score.")


class ChangedPairSerializer(serializers.Serializer):
    mentee = MatchPersonSerializer()
    mentor_a = MatchPersonSerializer(allow_null=True)
    score_a = serializers.FloatField(allow_null=True)
    mentor_b = MatchPersonSerializer(allow_null=True)
    score_b = serializers.FloatField(allow_null=True)


class RunComparisonSerializer(serializers.Serializer):
    a = RunSummarySerializer()
    b = RunSummarySerializer()
    in_both = serializers.IntegerField(help_text="Residents in both cohorts.")
    changed_count = serializers.SerializerMethodField(help_text="Of those, how many get a different mentor.")
    changed = ChangedPairSerializer(many=True)
    only_in_a = serializers.IntegerField()
    only_in_b = serializers.IntegerField()
    a_in_both = RunSummarySerializer(
        help_text="Run a over the residents in both cohorts only: like with like, when the cohorts differ."
    )
    b_in_both = RunSummarySerializer(help_text="Run b over the residents in both cohorts only.")
    same_score = serializers.IntegerField(
        help_text="Of the changed, how many get a different mentor of the same score (a tie broken by id)."
    )

    def get_changed_count(self, comparison) -> int:
        return len(comparison.changed)


# --- Views.

_ERROR = ServiceErrorSerializer
_404 = OpenApiResponse(_ERROR, description="No such match run among those you coordinate.")
_409 = OpenApiResponse(
    _ERROR,
    description="The run's state no longer allows this (not finished, or already published; or a pair no longer fits).",
)
_ID = OpenApiParameter("id", int, OpenApiParameter.PATH, description="The match run's id.")
_PROPOSAL_ID = OpenApiParameter("id", int, OpenApiParameter.PATH, description="The proposal's id.")
_SLUG = OpenApiParameter("slug", str, OpenApiParameter.PATH, description="The program's slug.")


def _runs():
    return MatchRun.objects.select_related("program").prefetch_related("mentees", "mentors")


class _RunApi(generics.GenericAPIView):
    """A run of a program the caller coordinates; any other answers 404."""

    serializer_class = MatchRunSerializer
    permission_classes = [RulesPermission]
    filter_backends = []

    def get_queryset(self):
        return _runs()

    def get_run(self, pk=None):
        return object_for(
            self.request.user, _runs(), self.kwargs["id"] if pk is None else pk, "matching.manage_match_runs"
        )

    def present(self, run, code=status.HTTP_200_OK):
        context = {**self.get_serializer_context(), "one_run": True}
        return Response(MatchRunSerializer(_runs().get(pk=run.pk), context=context).data, status=code)


@extend_schema(tags=["match runs"], parameters=[_SLUG])
@extend_schema_view(
    get=extend_schema(
        summary="A program's match runs, newest first.", responses={200: MatchRunSerializer(many=True), 404: _404}
    ),
    post=extend_schema(
        summary="Create a match run for a cohort; it starts now, or after its ranking deadline.",
        request=MatchRunCreateSerializer,
        responses={201: MatchRunSerializer, 400: OpenApiResponse(description="Field errors."), 404: _404},
    ),
)
class ProgramMatchRunListApi(ProgramScopedApi, _RunApi, generics.ListCreateAPIView):
    program_permission = "matching.manage_match_runs"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return MatchRun.objects.none()
        return _runs().filter(program=self.get_program())

    def create(self, request, *args, **kwargs):
        program = self.get_program()
        data = MatchRunCreateSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        with service_refusals():
            run = run_services.match_run_create(program=program, actor=request.user, **data.validated_data)
        return self.present(run, code=status.HTTP_201_CREATED)


@extend_schema(tags=["match runs"], parameters=[_ID], responses={200: MatchRunSerializer, 404: _404})
class MatchRunDetailApi(_RunApi):
    """A run's status, progress, statistics and error: poll it while it runs."""

    @extend_schema(summary="One match run.")
    def get(self, request, *args, **kwargs):
        return self.present(self.get_run())


@extend_schema(tags=["match runs"], parameters=[_ID])
class MatchRunProposalListApi(_RunApi, generics.ListAPIView):
    """The run's proposals, by resident's name: score, explanation, why-not, the ranks both
    sides gave each other, and the coordinator's decision."""

    serializer_class = MatchProposalSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return MatchProposal.objects.none()
        return run_selectors.proposals_for(self.get_run())

    @extend_schema(summary="A run's proposals.", responses={200: MatchProposalSerializer(many=True), 404: _404})
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class _RunActionApi(_RunApi):
    def act(self, run):
        raise NotImplementedError

    def post(self, request, *args, **kwargs):
        run = self.get_run()
        with service_refusals(conflict=True):
            result = self.act(run)
        return self.present(result if isinstance(result, MatchRun) else run, code=self.success_code)


class MatchRunPublishSerializer(serializers.Serializer):
    accept_waiting = serializers.BooleanField(
        default=False,
        help_text="Accept the proposals still waiting for a decision first, in the same step (all or none), as the "
        'review page\'s "Accept the N waiting and publish" does. Without it those residents get no mentor '
        'from this match (their proposals read "Not decided before publishing").',
    )


@extend_schema(
    tags=["match runs"],
    parameters=[_ID],
    request=MatchRunPublishSerializer,
    summary="Publish: start a mentorship for every accepted or overridden proposal (all or none) and notify everyone.",
    responses={200: MatchRunSerializer, 404: _404, 409: _409},
)
class MatchRunPublishApi(_RunActionApi):
    success_code = status.HTTP_200_OK

    def act(self, run):
        options = MatchRunPublishSerializer(data=self.request.data)
        options.is_valid(raise_exception=True)
        run_services.match_run_publish(
            run=run, actor=self.request.user, accept_waiting=options.validated_data["accept_waiting"]
        )


@extend_schema(
    tags=["match runs"],
    parameters=[_ID],
    request=None,
    summary="A second round over the published run's unmatched residents and the mentors with spots left.",
    responses={201: MatchRunSerializer, 404: _404, 409: _409},
)
class MatchRunSecondRoundApi(_RunActionApi):
    success_code = status.HTTP_201_CREATED

    def act(self, run):
        return run_services.match_run_second_round(run=run, actor=self.request.user)


@extend_schema(
    tags=["match runs"],
    parameters=[_ID],
    request=None,
    summary="Re-run with the same settings, as the program is now (rankings kept); the run itself is archived.",
    responses={201: MatchRunSerializer, 404: _404, 409: _409},
)
class MatchRunRerunApi(_RunActionApi):
    success_code = status.HTTP_201_CREATED

    def act(self, run):
        return run_services.match_run_rerun(run=run, actor=self.request.user)


@extend_schema(
    tags=["match runs"],
    parameters=[_ID],
    request=MatchRunCancelSerializer,
    summary="Archive (discard) a run nobody will publish: kept read-only, hidden from the default list. Idempotent.",
    responses={200: MatchRunSerializer, 404: _404, 409: _409},
)
class MatchRunArchiveApi(_RunActionApi):
    success_code = status.HTTP_200_OK

    def act(self, run):
        data = MatchRunCancelSerializer(data=self.request.data)
        data.is_valid(raise_exception=True)
        run_services.match_run_archive(run=run, actor=self.request.user, reason=data.validated_data["reason"])


@extend_schema(tags=["match runs"], parameters=[_ID], responses={200: ReviewSummarySerializer, 404: _404})
class MatchRunSummaryApi(_RunApi):
    """Every count of the review page, as it shows them."""

    serializer_class = ReviewSummarySerializer

    @extend_schema(summary="A run's review counts.")
    def get(self, request, *args, **kwargs):
        return Response(ReviewSummarySerializer(run_selectors.review_summary(self.get_run())).data)


@extend_schema(
    tags=["match runs"],
    parameters=[_ID],
    request=MatchRunCancelSerializer,
    summary="Cancel a run that is waiting for rankings, queued or running; nothing is proposed.",
    responses={200: MatchRunSerializer, 404: _404, 409: _409},
)
class MatchRunCancelApi(_RunActionApi):
    success_code = status.HTTP_200_OK

    def act(self, run):
        data = MatchRunCancelSerializer(data=self.request.data)
        data.is_valid(raise_exception=True)
        run_services.match_run_cancel(run=run, actor=self.request.user, reason=data.validated_data["reason"])


@extend_schema(
    tags=["match runs"],
    parameters=[
        _ID,
        OpenApiParameter(
            "with",
            {"type": "integer", "minimum": 1},
            OpenApiParameter.QUERY,
            required=True,
            description="The other run of the same program.",
        ),
    ],
    summary="Two finished runs side by side: residents paired differently, matched, average and worst score.",
    responses={
        200: RunComparisonSerializer,
        400: OpenApiResponse(OpenApiTypes.OBJECT, description='{"with": [...]} for a missing id, or {"detail": ...}.'),
        404: _404,
    },
)
class MatchRunCompareApi(_RunApi):
    serializer_class = RunComparisonSerializer

    def get(self, request, *args, **kwargs):
        run = self.get_run()
        other_id = request.query_params.get("with", "")
        if not (other_id.isascii() and other_id.isdigit()):  # not "²", which int() refuses
            return Response({"with": ["Give the id of the run to compare with."]}, status=status.HTTP_400_BAD_REQUEST)
        other = self.get_run(int(other_id))
        with service_refusals():
            comparison = run_selectors.match_run_compare(a=run, b=other, actor=request.user)
        return Response(RunComparisonSerializer(comparison).data)


class _ProposalActionApi(generics.GenericAPIView):
    serializer_class = MatchProposalSerializer
    permission_classes = [RulesPermission]
    filter_backends = []
    input_serializer = None

    def get_queryset(self):
        return MatchProposal.objects.select_related("run")

    def post(self, request, *args, **kwargs):
        proposal = get_object_or_404(self.get_queryset(), pk=self.kwargs["id"])
        check_object(request.user, proposal.run, "matching.manage_match_runs")  # the run's program decides
        given = self.input_serializer(data=request.data, context={"proposal": proposal})
        given.is_valid(raise_exception=True)
        with service_refusals(conflict=True):
            self.act(proposal, **given.validated_data)
        fresh = run_selectors.proposals_for(proposal.run).get(pk=proposal.pk)
        return Response(self.get_serializer(fresh).data)


def _proposal_schema(summary, input_serializer):
    return extend_schema(
        tags=["match runs"],
        parameters=[_PROPOSAL_ID],
        summary=summary,
        request=input_serializer,
        responses={
            200: MatchProposalSerializer,
            400: OpenApiResponse(description="Field errors (e.g. the mentor has no spot left)."),
            404: OpenApiResponse(_ERROR, description="No such proposal among the runs you coordinate."),
            409: _409,
        },
    )


@_proposal_schema("Accept or reject the engine's proposal.", ProposalDecideSerializer)
class MatchProposalDecideApi(_ProposalActionApi):
    input_serializer = ProposalDecideSerializer

    def act(self, proposal, *, decision, note):
        run_services.proposal_decide(proposal=proposal, actor=self.request.user, decision=decision, note=note)


@_proposal_schema("Pair the resident with another cohort mentor instead, with a reason.", ProposalOverrideSerializer)
class MatchProposalOverrideApi(_ProposalActionApi):
    input_serializer = ProposalOverrideSerializer

    def act(self, proposal, *, mentor_id, note, make_room=""):
        run_services.proposal_override(
            proposal=proposal, actor=self.request.user, mentor=mentor_id, note=note, make_room=make_room
        )


@extend_schema(tags=["match runs"], parameters=[_ID])
class MyRankingApi(generics.GenericAPIView):
    """Your own confidential ranking in a run. Only cohort members have one; it is never
    shown to anyone else, coordinators included (they get 404). Changing it needs the
    ranking window to be open (403 otherwise)."""

    serializer_class = MyRankingSerializer
    permission_classes = [RulesPermission]
    filter_backends = []

    def get_queryset(self):
        return MatchRun.objects.all()

    def get_run(self):
        run = get_object_or_404(MatchRun.objects.all(), pk=self.kwargs["id"])
        if not is_in_run_cohort.test(self.request.user, run):
            raise NotFound
        return run

    def present(self, run):
        entries = list(run_selectors.rankings_for(run, self.request.user))
        return Response(
            {
                "ordered_ids": [e.target_id for e in entries if not e.never],
                "never_ids": [e.target_id for e in entries if e.never],
                "ranking_deadline": serializers.DateTimeField().to_representation(run.ranking_deadline)
                if run.ranking_deadline
                else None,
                "window_open": run.ranking_window_open(),
            }
        )

    @extend_schema(summary="Your ranking in this run.", responses={200: MyRankingSerializer, 404: _404})
    def get(self, request, *args, **kwargs):
        return self.present(self.get_run())

    @extend_schema(
        summary="Replace your ranking in this run (while the ranking window is open).",
        request=MyRankingSerializer,
        responses={
            200: MyRankingSerializer,
            400: OpenApiResponse(_ERROR, description="Someone listed twice, or not in this run's cohort."),
            403: OpenApiResponse(_ERROR, description="The ranking window is closed."),
            404: _404,
        },
    )
    def put(self, request, *args, **kwargs):
        run = self.get_run()
        if not request.user.has_perm("matching.rank_in_run", run):
            raise PermissionDenied("The ranking window for this match is closed.")
        given = MyRankingSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        with service_refusals():
            ranking_submit(
                run=run,
                actor=request.user,
                ordered_ids=given.validated_data["ordered_ids"],
                never_ids=given.validated_data["never_ids"],
            )
        run.refresh_from_db()
        return self.present(run)


urlpatterns = [
    path("programs/<slug:slug>/match-runs/", ProgramMatchRunListApi.as_view(), name="api-program-match-runs"),
    path("match-runs/<int:id>/", MatchRunDetailApi.as_view(), name="api-match-run-detail"),
    path("match-runs/<int:id>/proposals/", MatchRunProposalListApi.as_view(), name="api-match-run-proposals"),
    path("match-runs/<int:id>/publish/", MatchRunPublishApi.as_view(), name="api-match-run-publish"),
    path("match-runs/<int:id>/second-round/", MatchRunSecondRoundApi.as_view(), name="api-match-run-second-round"),
    path("match-runs/<int:id>/cancel/", MatchRunCancelApi.as_view(), name="api-match-run-cancel"),
    path("match-runs/<int:id>/compare/", MatchRunCompareApi.as_view(), name="api-match-run-compare"),
    path("match-runs/<int:id>/rerun/", MatchRunRerunApi.as_view(), name="api-match-run-rerun"),
    path("match-runs/<int:id>/archive/", MatchRunArchiveApi.as_view(), name="api-match-run-archive"),
    path("match-runs/<int:id>/summary/", MatchRunSummaryApi.as_view(), name="api-match-run-summary"),
    path("match-runs/<int:id>/my-ranking/", MyRankingApi.as_view(), name="api-match-run-my-ranking"),
    path("match-proposals/<int:id>/decide/", MatchProposalDecideApi.as_view(), name="api-match-proposal-decide"),
    path("match-proposals/<int:id>/override/", MatchProposalOverrideApi.as_view(), name="api-match-proposal-override"),
]
