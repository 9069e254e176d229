"""``{% ranking_window_of run as window %}``: who has submitted in a run's ranking window
(``match_runs.ranking.ranking_window_status``), for the run page's at-a-glance summary."""

from django import template

from ..match_runs.ranking import ranking_window_status

register = template.Library()


@register.simple_tag
def ranking_window_of(run):
    return ranking_window_status(run)
