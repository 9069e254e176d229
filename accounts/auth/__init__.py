"""How people sign in: our rules on top of django-allauth.

- ``policy.py``: who must use a second factor, and whether they have one.
- ``adapters.py``: allauth's hooks — no open sign-up, sessions on our one backend, SSO
  admitting only people already on a roster.
- ``forms.py``: the sign-in form (allauth's, in our words).
"""
