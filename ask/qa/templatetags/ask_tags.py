"""Template tags of the Q&A pages."""
from django import template

from ask.qa import sidebar as sidebar_figures
from ask.qa.text import plain_start

CARD_EXCERPT = 160  # characters of text on a question's card

register = template.Library()


@register.filter
def card_excerpt(text: str) -> str:
    """The start of a question's Markdown as plain text for its card (escaped by the template)."""
    return plain_start(text or "", CARD_EXCERPT)


@register.inclusion_tag("ask/sidebar.html")
def sidebar() -> dict:
    """Popular tags and best members as calc_sidebar left them (never computed here)."""
    return sidebar_figures.sidebar()
