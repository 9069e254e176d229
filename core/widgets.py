"""Form widgets shared by every app's pages."""

from collections.abc import Callable, Iterable
from typing import Any

from django import forms
from django.db.models import Model
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe


class ChecklistSelectMultiple(forms.CheckboxSelectMultiple):
    """Checkboxes for a long vocabulary instead of a Ctrl-click ``<select multiple>``.

    Without JavaScript: plain checkboxes, in a fieldset per group when the choices are
    grouped (``[(group, [(value, label), …]), …]``). static/js/checklist.js adds a filter box
    that ignores case and accents, a polite count of what is shown, and, when
    ``narrow_label`` is given and the choices are grouped, a select that shows one group at a
    time, starting with ``start_group`` (for instance the specialty of the person's program).
    """

    template_name = "django/forms/widgets/checklist.html"
    # The filter box appears from this many options on; shorter lists are seen at a glance.
    FILTER_FROM = 8

    def __init__(
        self,
        attrs: dict[str, Any] | None = None,
        choices: Any = (),
        *,
        narrow_label: str = "",
        start_group: str = "",
    ) -> None:
        super().__init__(attrs, choices)
        self.narrow_label = narrow_label
        self.start_group = start_group

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        # Django yields each ungrouped option as a group of its own: one list per real group.
        groups: list[tuple[str, list]] = []
        for group, options, _index in context["widget"]["optgroups"]:
            if groups and not group and not groups[-1][0]:
                groups[-1][1].extend(options)
            else:
                groups.append((group or "", list(options)))
        context["widget"]["groups"] = groups
        options = sum(len(options) for _group, options in groups)
        context["widget"]["checklist"] = {
            "filter": options >= self.FILTER_FROM,
            "narrow_label": self.narrow_label,
            "start_group": self.start_group,
        }
        return context


def grouped_choices(
    queryset: Iterable[Model],
    *,
    group: Callable[[Any], str],
    label: Callable[[Any], str] = str,
    value: Callable[[Any], Any] = lambda row: row.pk,
    first: str = "",
) -> list[tuple[str, list[tuple[Any, str]]]]:
    """``queryset``'s rows as grouped choices, ``group(row)`` naming each row's group, groups
    in the queryset's order except ``first``, which leads. A value appears once."""
    groups: dict[str, list[tuple[Any, str]]] = {}
    seen = set()
    for row in queryset:
        if row.pk in seen:
            continue
        seen.add(row.pk)
        groups.setdefault(group(row), []).append((value(row), label(row)))
    ordered = sorted(groups.items(), key=lambda item: item[0] != first)  # stable: keeps the rest in order
    return ordered


class PlainSelect(forms.Select):
    """A ``<select>`` written in one pass of Python, for long choice lists (a program's mentors:
    over a thousand options). Django's Select renders every ``<option>`` through two template
    includes, ~0.2 ms each, so a list of 1,400 mentors took a quarter of a second; the markup
    here is the same (``tests/core/test_plain_select.py`` compares them), options groups included."""

    def render(self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None) -> SafeString:
        widget = self.get_context(name, value, attrs)["widget"]
        parts: list[str] = [format_html('<select name="{}"{}>', widget["name"], _attrs(widget["attrs"]))]
        for group_name, options, _index in widget["optgroups"]:
            if group_name:
                parts.append(format_html('\n  <optgroup label="{}">', group_name))
            for option in options:
                parts.append(
                    format_html(
                        '\n  <option value="{}"{}>{}</option>\n',
                        str(option["value"]),
                        _attrs(option["attrs"]),
                        option["label"],
                    )
                )
            if group_name:
                parts.append("\n  </optgroup>")
        parts.append("\n</select>")
        return mark_safe("".join(parts))  # noqa: S308  (every part is escaped by format_html)


def _attrs(attrs: dict[str, Any]) -> str:
    """As ``django/forms/widgets/attrs.html``: `` name="value"``, `` name`` for True, nothing for False."""
    return mark_safe(  # noqa: S308  (each part is escaped by format_html)
        "".join(
            format_html(' {}="{}"', key, str(value)) if value is not True else format_html(" {}", key)
            for key, value in attrs.items()
            if value is not False
        )
    )


class PlainChecklistSelectMultiple(ChecklistSelectMultiple):
    """``ChecklistSelectMultiple`` written in one pass of Python, as ``PlainSelect`` is for a
    ``<select>``: Django renders each checkbox through three template includes. The markup is the
    template's (``tests/core/test_plain_select.py`` compares them)."""

    def render(self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None) -> SafeString:
        widget = self.get_context(name, value, attrs)["widget"]
        checklist, own = widget["checklist"], widget["attrs"]
        parts: list[str] = [
            format_html(
                '<div{} class="checklist{}"{}{}{}>\n',
                format_html(' id="{}"', own["id"]) if own.get("id") else "",
                format_html(" {}", own["class"]) if own.get("class") else "",
                mark_safe(" data-checklist") if checklist["filter"] else "",  # noqa: S308  (a constant)
                format_html(' data-checklist-narrow="{}"', checklist["narrow_label"])
                if checklist["narrow_label"]
                else "",
                format_html(' data-checklist-start="{}"', checklist["start_group"]) if checklist["start_group"] else "",
            )
        ]
        for group, options in widget["groups"]:
            if group:
                parts.append(
                    format_html(
                        '<fieldset class="checklist-group" data-checklist-group="{}"><legend>{}</legend>', group, group
                    )
                )
            parts.append('\n<ul class="checklist-options">')
            for option in options:
                option_attrs = option["attrs"]
                parts.append(
                    format_html(
                        '\n  <li>{}<input type="{}" name="{}"{}{}>\n{}\n\n</li>',
                        format_html('<label for="{}">', option_attrs["id"])
                        if option_attrs.get("id")
                        else mark_safe("<label>"),  # noqa: S308
                        option["type"],
                        option["name"],
                        format_html(' value="{}"', str(option["value"])) if option["value"] is not None else "",
                        _attrs(option_attrs),
                        format_html(" {}</label>", option["label"]),
                    )
                )
            parts.append("\n</ul>")
            if group:
                parts.append("</fieldset>")
            parts.append("\n")
        parts.append("</div>")
        return mark_safe("".join(parts))  # noqa: S308  (every part is escaped by format_html)
