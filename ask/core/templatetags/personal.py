"""{% personal "slot" args %}: a reader's own bit of a page (ask.core.shells)."""
from django import template

from ask.core.shells import slot_html

register = template.Library()


@register.simple_tag(takes_context=True)
def personal(context, name: str, *args):
    return slot_html(context, name, args)
