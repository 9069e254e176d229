"""Reading a sent e-mail as a mail client does: parse the bytes, walk the MIME tree, and
take the iTIP calendar part out of the ``multipart/alternative``."""

from email import message_from_bytes
from email.message import Message

from icalendar import Calendar


def parsed(message) -> Message:
    """A Django ``EmailMessage`` from ``mail.outbox`` as the bytes a client receives."""
    return message_from_bytes(message.message().as_bytes())


def calendar_part(message) -> tuple[str, Calendar] | None:
    """``(method parameter, parsed calendar)`` of the e-mail's text/calendar part, or None."""
    for part in parsed(message).walk():
        if part.get_content_type() == "text/calendar":
            return part.get_param("method"), Calendar.from_ical(part.get_payload(decode=True))
    return None
