"""Log lines that say which request (or task) they belong to.

A request id is taken from the incoming ``X-Request-ID`` when it looks like one (a load
balancer's or a proxy's), else made here; it is returned in the response's header, added to
every log line written while the request runs, carried to the Celery tasks the request
enqueues (a message header, restored in the worker) and written into the e-mails they send
(core/email.py). With it go the signed-in person's id and the program's slug where the URL
names one: ids only, never a name, an e-mail address or a client address.

In production (``LOG_FORMAT=json``, the default with debug off) each line is one JSON object;
in development it is a readable line with the id in brackets.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar, Token
from types import MappingProxyType
from typing import Any

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter as _JsonFormatter

REQUEST_ID_HEADER = "X-Request-ID"
# What the Celery message carries (core/logs.py's publish and pre-run hooks, config/celery.py).
TASK_HEADER = "mentormatch_context"
FIELDS = ("request_id", "user_id", "program")

# Letters, digits and a few separators, as load balancers write them (a UUID, AWS's
# ``Root=1-…``, a hex trace id): nothing that could break a log line or an e-mail header.
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:=+/-]{7,127}", re.ASCII)

_NOTHING: Mapping[str, Any] = MappingProxyType({})
_context: ContextVar[Mapping[str, Any]] = ContextVar("log_context", default=_NOTHING)


def new_request_id() -> str:
    return uuid.uuid4().hex


def request_id_from(value: str | None) -> str:
    """``value`` (an incoming header) if it is a sane id, else a new one."""
    if value and _SANE_REQUEST_ID.fullmatch(value):
        return value
    return new_request_id()


def current() -> dict[str, Any]:
    """The fields of the request or task running now (empty outside one)."""
    return dict(_context.get())


def current_request_id() -> str | None:
    return _context.get().get("request_id")


def update(**fields: Any) -> None:
    """Add fields (``user_id``, ``program``) to the current context, once they are known."""
    _context.set({**_context.get(), **{k: v for k, v in fields.items() if v is not None}})


@contextmanager
def bound(**fields: Any) -> Iterator[None]:
    """Within the block, log lines carry ``fields`` (and nothing of an outer context)."""
    token = _context.set({k: v for k, v in fields.items() if v is not None})
    try:
        yield
    finally:
        _context.reset(token)


def task_headers() -> dict[str, Any]:
    """What a task published now carries: the context's ids, to restore in the worker."""
    fields = {k: v for k, v in _context.get().items() if k in FIELDS}
    return {TASK_HEADER: fields} if fields else {}


def from_task_headers(value: Any) -> dict[str, Any]:
    """The fields a message carried, checked again: a message is input like any other."""
    if not isinstance(value, Mapping):
        return {}
    fields: dict[str, Any] = {}
    if isinstance(value.get("request_id"), str) and _SANE_REQUEST_ID.fullmatch(value["request_id"]):
        fields["request_id"] = value["request_id"]
    if isinstance(value.get("user_id"), int):
        fields["user_id"] = value["user_id"]
    if isinstance(value.get("program"), str) and re.fullmatch(r"[-\w]{1,100}", value["program"], re.ASCII):
        fields["program"] = value["program"]
    return fields


class ContextFilter(logging.Filter):
    """Puts the context's fields on every record (``None`` where unknown), whichever logger
    wrote it: Django's, Celery's, a library's. Attached to the handler, not to a logger."""

    def filter(self, record: logging.LogRecord) -> bool:
        context = _context.get()
        for name in (*FIELDS, "task_id", "task"):
            if not hasattr(record, name):
                setattr(record, name, context.get(name))
        return True


class JsonFormatter(_JsonFormatter):
    """One JSON object a line: time, level, logger, message, then the context's fields and
    any ``extra`` the call gave."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("fmt", "{levelname}{name}{message}")
        kwargs.setdefault("style", "{")
        kwargs.setdefault("rename_fields", {"levelname": "level", "name": "logger"})
        # ISO 8601 in UTC, whatever the server's zone.
        kwargs.setdefault("timestamp", "time")
        # Django's request lines attach the request object: its repr repeats the path, once is enough.
        kwargs.setdefault("reserved_attrs", [*RESERVED_ATTRS, "request"])
        super().__init__(*args, **kwargs)

    def add_fields(self, log_data: dict[str, Any], record: logging.LogRecord, message_dict: dict[str, Any]) -> None:
        super().add_fields(log_data, record, message_dict)
        # Context fields the line has no value for are left out, not written as null.
        for name in (*FIELDS, "task_id", "task"):
            if log_data.get(name) is None:
                log_data.pop(name, None)


# --- Celery: config/celery.py connects these to its signals.

_task_tokens: dict[str, Token[Mapping[str, Any]]] = {}


def stamp_published_task(headers: dict[str, Any] | None = None, **kwargs: Any) -> None:
    """``before_task_publish``: the message carries the publishing request's ids."""
    if headers is not None and TASK_HEADER not in headers:
        headers.update(task_headers())


def restore_in_task(task_id: str | None = None, task: Any = None, **kwargs: Any) -> None:
    """``task_prerun``: the task's log lines (and e-mails) carry the ids its message brought.
    A task run in-process keeps the enqueuing request's context; a task no request enqueued
    (beat's) is known by its task id."""
    request = getattr(task, "request", None)
    carried = None
    if request is not None:
        carried = request.get(TASK_HEADER) or (getattr(request, "headers", None) or {}).get(TASK_HEADER)
    fields = from_task_headers(carried) if carried is not None else current()
    fields.setdefault("request_id", task_id)
    fields.update(task_id=task_id, task=getattr(task, "name", None))
    if task_id is not None:
        _task_tokens[task_id] = _context.set(fields)


def forget_task(task_id: str | None = None, **kwargs: Any) -> None:
    """``task_postrun``: back to the context from before the task."""
    token = _task_tokens.pop(task_id, None) if task_id is not None else None
    if token is not None:
        try:
            _context.reset(token)
        except ValueError:  # set in another context (a pool that moved the task): start clean
            _context.set({})
