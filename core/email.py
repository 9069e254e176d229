"""E-mails as subject/text/HTML template triplets under templates/<app>/email/.

Text parts and subjects are rendered here, with autoescape off: they are not HTML, so
``D'Andre`` must not arrive as ``D&#x27;Andre`` nor ``Obstetrics & Gynecology`` as
``&amp;``. HTML parts keep Django's escaping. Every e-mail, Django's password reset
included (accounts/forms.py), renders its text through ``render_text``.
"""

from collections.abc import Iterable

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template import Context, Engine
from django.template.loader import render_to_string


def render_text(template_name: str, context: dict) -> str:
    """A plain-text template, unescaped."""
    return Engine.get_default().get_template(template_name).render(Context(context, autoescape=False))


def render_subject(template_name: str, context: dict) -> str:
    """A subject on one line: line breaks (a name cannot add a header) and runs of spaces collapse."""
    return " ".join(render_text(template_name, context).split())


def send_email(
    *,
    subject: str,
    text: str,
    html: str | None,
    to: list[str],
    from_email: str | None = None,
    attachments: Iterable[tuple[str, str | bytes, str]] = (),
) -> None:
    message = EmailMultiAlternatives(subject=subject, body=text, from_email=from_email, to=to)
    if html is not None:
        message.attach_alternative(html, "text/html")
    for filename, content, mimetype in attachments:
        message.attach(filename, content, mimetype)
    message.send()


def send_templated_email(
    *, template: str, to: list[str], context: dict, attachments: Iterable[tuple[str, str | bytes, str]] = ()
) -> None:
    """Render ``<template>_subject.txt``, ``.txt`` and ``.html`` and send them as one message."""
    context = {"site_url": settings.SITE_URL, **context}
    send_email(
        subject=render_subject(f"{template}_subject.txt", context),
        text=render_text(f"{template}.txt", context),
        html=render_to_string(f"{template}.html", context),
        to=to,
        attachments=attachments,
    )
