"""The period of a mentor's portfolio."""

from core.forms import DateRangeForm


class PeriodForm(DateRangeForm):
    """Either date may be left out: the default period fills it."""
