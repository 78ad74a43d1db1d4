"""Codes as people read them: `{{ user.country|country_name }}` is "South Africa", `language_name` "Zulu"."""

from __future__ import annotations

from django import template

from accounts import identity

register = template.Library()


@register.filter
def country_name(code: str) -> str:
    return identity.country_name(code)


@register.filter
def language_name(code: str) -> str:
    return identity.language_name(code)
