"""`{% if user|can:"manage_users" %}`: templates ask the access policy, never the role directly."""

from django import template

from accounts.access import Capability, has_capability

register = template.Library()


@register.filter
def can(user, capability: str) -> bool:
    # No user at all (a page rendered without the request, such as the 500 page): no capability.
    if not getattr(user, "is_authenticated", False):
        return False
    return has_capability(user, Capability(capability))
