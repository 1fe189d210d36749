"""{% pagination page %}: previous/next links of an ask.core.pagination.Window, keeping the query."""
from django import template

register = template.Library()


@register.inclusion_tag("core/pagination.html", takes_context=True)
def pagination(context, page) -> dict:
    query = context["request"].GET.copy()
    query.pop("page", None)
    return {"page": page, "query": query.urlencode()}
