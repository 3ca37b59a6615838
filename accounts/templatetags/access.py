"""`{% if user|can:"manage_users" %}`: templates ask the access policy, never the role directly."""

from django import template

from accounts.access import Capability, has_capability

register = template.Library()


@register.filter
def can(user, capability: str) -> bool:
    return has_capability(user, Capability(capability))
