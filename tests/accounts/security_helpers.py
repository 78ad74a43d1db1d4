from __future__ import annotations

import time

from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import security
from accounts.events import Client

ANDROID = (
    "Mozilla/5.0 (Linux; Android 13; SM-A145F) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.6367.82 Mobile Safari/537.36"
)
WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"
)


def totp_code(device: TOTPDevice, *, steps_ahead: int = 0) -> str:
    """The app's current code; `steps_ahead=1` gives the next one, which the device also accepts (tolerance 1),
    for a second sign-in within the same 30 seconds (a code is accepted only once)."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + steps_ahead * device.step
    return f"{totp.token():06d}"


def enable_two_factor(user) -> tuple[TOTPDevice, list[str]]:
    """Two-factor sign-in turned on the way a user does it: begin, then the first code from the app."""
    setup = security.two_factor_begin(user=user)
    return security.two_factor_confirm(user=user, code=totp_code(setup.device), client=Client())
