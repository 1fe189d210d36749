"""Template tags of the Q&A pages."""
from django import template

from ask import selectors

register = template.Library()


@register.inclusion_tag("ask/sidebar.html")
def sidebar() -> dict:
    """Popular tags and best members as calc_best left them (never computed here)."""
    return selectors.sidebar()


@register.inclusion_tag("ask/pagination.html", takes_context=True)
def pagination(context, page) -> dict:
    query = context["request"].GET.copy()
    query.pop("page", None)
    return {"page": page, "query": query.urlencode()}
