"""Template tags of the Q&A pages."""
from django import template

from ask.qa import sidebar as sidebar_figures

register = template.Library()


@register.inclusion_tag("ask/sidebar.html")
def sidebar() -> dict:
    """Popular tags and best members as calc_sidebar left them (never computed here)."""
    return sidebar_figures.sidebar()
