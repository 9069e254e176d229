"""core/idempotency.py: a double tap or a client's retry creates one thing."""

import threading

import pytest
from django import forms
from django.core.cache import cache
from rest_framework import status
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory, force_authenticate
from rest_framework.views import APIView

from core.idempotency import OnceFormMixin, idempotent, once_claim, once_done, once_release
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _own_cache(settings):
    # A cache of these tests' own (never a Redis that a broker shares), empty for each test:
    # user ids are reused after a rolled-back test, and their keys must not survive it.
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "once"}}
    cache.clear()


class GoalForm(OnceFormMixin):
    title = forms.CharField()


class TestOnceForm:
    def test_each_unbound_form_gets_its_own_value(self):
        first, second = GoalForm(), GoalForm()
        assert len(first.initial["once"]) == 32 and first.initial["once"] != second.initial["once"]
        assert 'type="hidden"' in str(first["once"])

    def test_a_bound_form_keeps_the_value_sent(self):
        form = GoalForm(data={"title": "x", "once": "abc"})
        assert form.is_valid() and form.cleaned_data["once"] == "abc"


class Req:
    def __init__(self, user):
        self.user = user


class TestOncePages:
    def test_first_claims_then_repeats_land_on_its_page(self):
        alice = Req(UserFactory())
        assert once_claim(alice, "goal:1", "v1") == (True, None)
        # While the first is still being handled, a repeat has nowhere to go yet.
        assert once_claim(alice, "goal:1", "v1") == (False, None)
        once_done(alice, "goal:1", "v1", "/mentorships/1/#plan")
        assert once_claim(alice, "goal:1", "v1") == (False, "/mentorships/1/#plan")

    def test_a_refused_submission_may_be_sent_again(self):
        alice = Req(UserFactory())
        assert once_claim(alice, "goal:1", "v1")[0]
        once_release(alice, "goal:1", "v1")
        assert once_claim(alice, "goal:1", "v1") == (True, None)

    def test_values_are_per_person_and_per_scope(self):
        alice, bob = Req(UserFactory()), Req(UserFactory())
        assert once_claim(alice, "goal:1", "v1")[0]
        assert once_claim(bob, "goal:1", "v1")[0]
        assert once_claim(alice, "resource:1", "v1")[0]

    def test_no_value_is_always_new(self):
        alice = Req(UserFactory())
        assert once_claim(alice, "goal:1", "")[0] and once_claim(alice, "goal:1", None)[0]

    def test_two_taps_at_once_claim_once(self):
        alice = Req(UserFactory())
        results = []
        barrier = threading.Barrier(8)

        def tap():
            barrier.wait()
            results.append(once_claim(alice, "goal:1", "same")[0])

        threads = [threading.Thread(target=tap) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert results.count(True) == 1


class CreateView(APIView):
    calls = 0
    answer = status.HTTP_201_CREATED

    @idempotent
    def post(self, request):
        type(self).calls += 1
        if type(self).answer >= 400:
            return Response({"title": ["Say what the goal is."]}, status=type(self).answer)
        return Response({"id": type(self).calls, **request.data}, status=type(self).answer, headers={"ETag": '"1"'})


@pytest.fixture
def call():
    CreateView.calls = 0
    CreateView.answer = status.HTTP_201_CREATED
    view = CreateView.as_view()
    factory = APIRequestFactory()

    def make(user, body, key=None):
        headers = {"HTTP_IDEMPOTENCY_KEY": key} if key is not None else {}
        request = factory.post("/api/v1/things/", body, format="json", **headers)
        force_authenticate(request, user=user)
        return view(request)

    return make


class TestIdempotentApi:
    def test_without_a_key_each_call_creates(self, call):
        user = UserFactory()
        call(user, {"title": "a"})
        call(user, {"title": "a"})
        assert CreateView.calls == 2

    def test_a_retry_with_the_same_key_replays_the_first_answer(self, call):
        user = UserFactory()
        first = call(user, {"title": "a"}, key="k1")
        again = call(user, {"title": "a"}, key="k1")
        assert CreateView.calls == 1
        assert again.status_code == 201 and again.data == first.data == {"id": 1, "title": "a"}
        assert again["Idempotent-Replayed"] == "true" and again["ETag"] == '"1"'
        assert not first.has_header("Idempotent-Replayed")

    def test_the_same_key_with_another_body_is_422(self, call):
        user = UserFactory()
        call(user, {"title": "a"}, key="k1")
        assert call(user, {"title": "b"}, key="k1").status_code == 422
        assert CreateView.calls == 1

    def test_a_retry_while_the_first_is_running_is_409(self, call, monkeypatch):
        user = UserFactory()
        inner = []

        def during(self, request):
            # The retry arrives while the first call is still inside the view.
            inner.append(call(user, {"title": "a"}, key="k1").status_code)
            return Response({"id": 1}, status=201)

        monkeypatch.setattr(CreateView, "post", idempotent(during))
        assert call(user, {"title": "a"}, key="k1").status_code == 201
        assert inner == [409]

    def test_a_refusal_is_not_kept(self, call):
        user = UserFactory()
        CreateView.answer = 400
        assert call(user, {"title": ""}, key="k1").status_code == 400
        CreateView.answer = 201
        assert call(user, {"title": ""}, key="k1").status_code == 201
        assert CreateView.calls == 2

    def test_an_exception_frees_the_key(self, call, monkeypatch):
        user = UserFactory()

        def boom(self, request):
            raise RuntimeError("database went away")

        monkeypatch.setattr(CreateView, "post", idempotent(boom))
        with pytest.raises(RuntimeError):
            call(user, {"title": "a"}, key="k1")
        monkeypatch.undo()
        assert call(user, {"title": "a"}, key="k1").status_code == 201

    def test_keys_are_per_caller(self, call):
        call(UserFactory(), {"title": "a"}, key="k1")
        assert not call(UserFactory(), {"title": "a"}, key="k1").has_header("Idempotent-Replayed")
        assert CreateView.calls == 2

    def test_an_overlong_key_is_400(self, call):
        assert call(UserFactory(), {"title": "a"}, key="k" * 256).status_code == 400
        assert CreateView.calls == 0
