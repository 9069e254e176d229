"""E-mails as subject/text/HTML template triplets under templates/<app>/email/.

Text parts and subjects are rendered here, with autoescape off: they are not HTML, so
``D'Andre`` must not arrive as ``D&#x27;Andre`` nor ``Obstetrics & Gynecology`` as
``&amp;``. HTML parts keep Django's escaping. Every e-mail, Django's password reset
included (accounts/forms.py), renders its text through ``render_text``.

A calendar invitation travels as iTIP over e-mail (RFC 6047): a ``text/calendar;
method=…; charset=utf-8`` part INSIDE the ``multipart/alternative``, beside the text and
HTML, not as an attachment: that is what makes Outlook and Gmail show Accept/Decline.
The part's ``method`` parameter must equal the object's METHOD property.

Every message says it was sent by a machine (``Auto-Submitted: auto-generated``, RFC 3834:
out-of-office replies stay away) and carries a Message-ID on the site's own domain. A message
someone may stop receiving (notifications, digests) also carries ``List-Unsubscribe`` and
``List-Unsubscribe-Post: List-Unsubscribe=One-Click`` (RFC 8058): the mail client's
"Unsubscribe" button posts to that address and the person is unsubscribed, no sign-in. Account
mail (invitations, password resets, sign-in codes) and calendar invitations carry none: they
cannot be turned off.

A message sent while a request or its task runs carries that request's ``X-Request-ID``
(core/logs.py): a bounce or a complaint about one e-mail leads to the log lines that sent it.
"""

from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.core.mail.message import SafeMIMEText, make_msgid
from django.template import Context, Engine
from django.template.loader import render_to_string

from core import logs


def render_text(template_name: str, context: dict) -> str:
    """A plain-text template, unescaped."""
    return Engine.get_default().get_template(template_name).render(Context(context, autoescape=False))


def render_subject(template_name: str, context: dict) -> str:
    """A subject on one line: line breaks (a name cannot add a header) and runs of spaces collapse."""
    return " ".join(render_text(template_name, context).split())


CALENDAR_METHODS = ("REQUEST", "CANCEL", "PUBLISH", "REPLY")


class _CalendarMessage(EmailMultiAlternatives):
    """Writes a ``text/calendar`` alternative with its ``method`` and charset parameters
    (Django would otherwise glue them into the subtype)."""

    def _create_mime_attachment(self, content: str | bytes, mimetype: str) -> Any:
        if not mimetype.startswith("text/calendar;"):
            # A private method of Django's that the type stubs leave out.
            return super()._create_mime_attachment(content, mimetype)  # type: ignore[misc]
        method = mimetype.split("method=", 1)[1]
        if isinstance(content, bytes):
            content = content.decode("utf-8")
        part = SafeMIMEText(content, "calendar", "utf-8")
        part.set_param("method", method)
        return part


def site_domain() -> str:
    """The host of ``SITE_URL`` (``mentormatch.example.org``): Message-IDs are made on it."""
    return urlsplit(settings.SITE_URL).hostname or "localhost"


def standard_headers(*, unsubscribe_url: str | None = None) -> dict[str, str]:
    """The headers every message carries, the request id of the request (or task) sending it,
    and the one-click unsubscribe pair when the message is one its recipient may stop
    (``unsubscribe_url``, absolute)."""
    headers = {"Auto-Submitted": "auto-generated", "Message-ID": make_msgid(domain=site_domain())}
    if request_id := logs.current_request_id():
        headers[logs.REQUEST_ID_HEADER] = request_id
    if unsubscribe_url:
        headers["List-Unsubscribe"] = f"<{unsubscribe_url}>"
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    return headers


def send_email(
    *,
    subject: str,
    text: str,
    html: str | None,
    to: list[str],
    from_email: str | None = None,
    attachments: Iterable[tuple[str, str | bytes, str]] = (),
    calendar: tuple[str, bytes] | None = None,
    unsubscribe_url: str | None = None,
) -> None:
    """``calendar`` is ``(method, ics)``: an iTIP object sent as the third alternative.
    ``unsubscribe_url``: where the one-click unsubscribe posts (never with ``calendar``)."""
    if calendar is not None and unsubscribe_url:
        raise ValueError("A calendar invitation cannot be unsubscribed from: send it without unsubscribe_url.")
    message = _CalendarMessage(
        subject=subject,
        body=text,
        from_email=from_email,
        to=to,
        headers=standard_headers(unsubscribe_url=unsubscribe_url),
    )
    if html is not None:
        message.attach_alternative(html, "text/html")
    if calendar is not None:
        method, ics = calendar
        if method not in CALENDAR_METHODS:
            raise ValueError(f"Unknown iTIP method {method!r}")
        message.attach_alternative(ics, f"text/calendar;method={method}")
    for filename, content, mimetype in attachments:
        message.attach(filename, content, mimetype)
    message.send()


def send_templated_email(
    *,
    template: str,
    to: list[str],
    context: dict,
    attachments: Iterable[tuple[str, str | bytes, str]] = (),
    calendar: tuple[str, bytes] | None = None,
    unsubscribe_url: str | None = None,
) -> None:
    """Render ``<template>_subject.txt``, ``.txt`` and ``.html`` and send them as one message.
    The templates get ``unsubscribe_url`` too, to say how to stop such e-mails."""
    context = {"site_url": settings.SITE_URL, "unsubscribe_url": unsubscribe_url, **context}
    send_email(
        subject=render_subject(f"{template}_subject.txt", context),
        text=render_text(f"{template}.txt", context),
        html=render_to_string(f"{template}.html", context),
        to=to,
        attachments=attachments,
        calendar=calendar,
        unsubscribe_url=unsubscribe_url,
    )
