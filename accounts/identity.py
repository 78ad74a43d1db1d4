"""Normalising the identities a sign-up presents, so that duplicates and returning offenders are recognised."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import re

import phonenumbers
from babel import Locale
from django.conf import settings
from ua_parser import parse as parse_user_agent

from .models import DeviceType

# Providers that ignore dots in the local part; all of these (and most others) ignore a "+tag".
DOTLESS_DOMAINS = {"gmail.com": "gmail.com", "googlemail.com": "gmail.com"}


def canonical_email(email: str) -> str:
    """Fold case, +tags, and dots where the provider ignores them: j.doe+ads@Gmail.com → jdoe@gmail.com."""
    local, _, domain = email.strip().lower().rpartition("@")
    local = local.split("+", 1)[0]
    if domain in DOTLESS_DOMAINS:
        domain = DOTLESS_DOMAINS[domain]
        local = local.replace(".", "")
    return f"{local}@{domain}"


def email_domain(email: str) -> str:
    return email.rpartition("@")[2].lower()


def normalise_phone(raw: str, country: str = "") -> str:
    """Return the E.164 form of a phone number, or raise ValueError with a reason a user can act on."""
    try:
        number = phonenumbers.parse(raw, country.upper() or None)
    except phonenumbers.NumberParseException:
        raise ValueError("Enter a phone number with its country code, e.g. +27 82 123 4567.") from None
    if not phonenumbers.is_valid_number(number):
        raise ValueError("This is not a valid phone number.")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def subnet_of(ip: str | None) -> str:
    """The /24 of an IPv4 address or the /48 of an IPv6 one: the unit of a sign-up burst from one network."""
    if not ip:
        return ""
    address = ipaddress.ip_address(ip)
    prefix = 24 if address.version == 4 else 48
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))


def fingerprint(kind: str, value: str) -> str:
    """A keyed hash: it recognises a returning identity without keeping the identity itself."""
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()


def device_type(user_agent: str) -> str:
    if not user_agent:
        return DeviceType.OTHER
    result = parse_user_agent(user_agent)
    device = result.device.family if result.device else ""
    os_family = result.os.family if result.os else ""
    if device in {"iPad", "Kindle"} or "Tablet" in device or (os_family == "Android" and "Mobile" not in user_agent):
        return DeviceType.TABLET
    if os_family in {"iOS", "Android", "Windows Phone", "KaiOS", "BlackBerry OS"}:
        return DeviceType.MOBILE
    if os_family in {"Windows", "Mac OS X", "Linux", "Ubuntu", "Chrome OS", "Fedora", "macOS"}:
        return DeviceType.DESKTOP
    return DeviceType.OTHER


# --- What others may see of a person --------------------------------------------------------------------------

# An address (a@b.c, also "a at b dot c") or a run of seven or more digits however spaced: a phone number.
_EMAIL_LIKE = re.compile(r"\S+@\S+\.\S+|\S+\s*[\[(]?\s*at\s*[\])]?\s*\S+\s*[\[(]?\s*dot\s*[\])]?\s*\S+", re.IGNORECASE)
_PHONE_LIKE = re.compile(r"(?:\d[\s().+-]*){7,}")


def looks_like_contact(text: str) -> bool:
    """Whether a name shown to others would give away an e-mail address or a phone number."""
    return bool(_EMAIL_LIKE.search(text) or _PHONE_LIKE.search(text))


def public_name(*, user_id: int, display_name: str = "") -> str:
    """The name other marketplace users see: the chosen display name, or a neutral one. Never the e-mail address
    or phone number (not even when the display name is blank, or was typed as one)."""
    name = " ".join((display_name or "").split())
    if name and not looks_like_contact(name):
        return name
    return f"SayPro member #{user_id}"


def staff_public_name(user: object, *, fallback: str) -> str:
    """A staff member as users see them on a reply: the first name, or the team (`fallback`) when the account has
    no name, never the staff member's e-mail address."""
    first = " ".join(str(getattr(user, "full_name", "") or "").split()).split(" ")[0]
    return first if first and not looks_like_contact(first) else fallback


# Languages users may choose for their messages and e-mails (the team answers in these).
LANGUAGE_CODES = ("en", "af", "zu", "xh", "st", "tn", "fr", "pt", "sw")
ENGLISH = Locale("en")


def country_name(code: str) -> str:
    """A two-letter country or territory code as people read it ("ZA" → "South Africa"), from CLDR via Babel."""
    return ENGLISH.territories.get((code or "").upper(), code or "")


def language_name(code: str) -> str:
    """A language code in English ("zu" → "Zulu")."""
    return ENGLISH.languages.get(code or "", code or "")


def language_choices() -> list[tuple[str, str]]:
    """The languages to choose from, each in its own words with the English name beside it ("isiZulu (Zulu)")."""
    choices = []
    for code in LANGUAGE_CODES:
        own = Locale.parse(code).get_display_name(code) or code
        english = language_name(code)
        choices.append((code, own if own == english else f"{own} ({english})"))
    return choices


def country_choices() -> list[tuple[str, str]]:
    """Every region the phone library knows (the list phone numbers are checked against), by name."""
    return sorted(((region, country_name(region)) for region in phonenumbers.SUPPORTED_REGIONS), key=lambda c: c[1])
