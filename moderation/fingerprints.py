"""Near-duplicate fingerprints: a MinHash signature of the text's words, banded for lookup by index.

The Jaccard similarity of two texts' word sets is estimated by the share of equal values in their signatures
(SIGNATURE_SIZE minimum hashes). For lookup, the first BANDS × ROWS values are grouped into bands, each band
hashed into one indexed column: texts with similarity s share at least one band with probability
1 − (1 − s³)⁶ (99 % at 0.8, 90 % at 0.7, under 1 % at 0.1), so the database finds candidates by index and only
those few are compared value by value. Numbers are folded to '#': a new phone number or price is no disguise.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q, QuerySet
from django.utils import timezone

from .models import Fingerprint

SIGNATURE_SIZE = 48
BANDS = 6
ROWS = 3
# Estimated word-set similarity from which two texts count as the same content.
MIN_SIMILARITY = 0.6
# Shorter texts are too alike by chance to compare ("iPhone for sale"): they get no bands.
MIN_TOKENS = 5
NO_BAND = -1
MAX_CANDIDATES = 500
_PRIME = (1 << 31) - 1
# Fixed coefficients of the hash family: every process must compute the same signatures.
_RANDOM = np.random.default_rng(20260601)
_A = _RANDOM.integers(1, _PRIME, size=SIGNATURE_SIZE, dtype=np.int64)
_B = _RANDOM.integers(0, _PRIME, size=SIGNATURE_SIZE, dtype=np.int64)
_TOKEN = re.compile(r"[^\W\d_]+|\d+", re.UNICODE)
# Words every text has say nothing about which text it is; left in, the minimum hash of many unrelated texts
# would be the same common word and their bands would collide. Numbers (folded to '#') are left out likewise.
_STOP_TEXT = (
    "# a an and are as at be been but by can do for from has have i if in is it its me my no not of on or our "
    "so than that the their them then there these they this to up us very was we were will with you your"
)
STOP_WORDS = frozenset(_STOP_TEXT.split())


def normalise(text: str) -> list[str]:
    """Lower-case words without accents; every number becomes '#'."""
    folded = unicodedata.normalize("NFKD", text or "").encode("ascii", "ignore").decode().lower()
    return ["#" if token.isdigit() else token for token in _TOKEN.findall(folded)]


def _token_hash(token: str) -> int:
    return int.from_bytes(hashlib.blake2b(token.encode(), digest_size=4).digest(), "big") % _PRIME


def signature(text: str) -> list[int] | None:
    """The MinHash signature of the text's word set; None for texts too short to compare."""
    tokens = normalise(text)
    words = set(tokens) - STOP_WORDS
    if len(tokens) < MIN_TOKENS or not words:
        return None
    hashes = np.fromiter((_token_hash(token) for token in words), dtype=np.int64)
    # (a·h + b) mod p stays below 2^62: no overflow in 64-bit integers.
    values = (np.outer(_A, hashes) + _B[:, None]) % _PRIME
    return [int(value) for value in values.min(axis=1)]


def bands(sig: list[int] | None) -> list[int]:
    if sig is None:
        return [NO_BAND] * BANDS
    out = []
    for band in range(BANDS):
        part = ",".join(str(value) for value in sig[band * ROWS : (band + 1) * ROWS])
        out.append(int.from_bytes(hashlib.blake2b(part.encode(), digest_size=4).digest(), "big") >> 1)
    return out


def similarity(a: list[int], b: list[int]) -> float:
    return sum(1 for x, y in zip(a, b, strict=True) if x == y) / SIGNATURE_SIZE


def fingerprint_row(
    *, content_type: ContentType, object_id: int, kind: str, author_id: int | None, text: str, at: datetime
) -> Fingerprint:
    """An unsaved Fingerprint for one version of some content (the demo data bulk-inserts these)."""
    sig = signature(text)
    band_values = bands(sig)
    return Fingerprint(
        content_type=content_type,
        object_id=object_id,
        kind=kind,
        author_id=author_id,
        signature=sig or [],
        created_at=at,
        **{f"band{index}": value for index, value in enumerate(band_values)},
    )


def fingerprint_record(*, obj: models.Model, kind: str, author: Any, text: str) -> Fingerprint:
    row = fingerprint_row(
        content_type=ContentType.objects.get_for_model(obj),
        object_id=obj.pk,
        kind=kind,
        author_id=author.pk if author is not None else None,
        text=text,
        at=timezone.now(),
    )
    row.save()
    return row


def near_matches(fingerprint: Fingerprint, candidates: QuerySet[Fingerprint]) -> list[tuple[Fingerprint, float]]:
    """Rows of `candidates` for other objects at MIN_SIMILARITY or more, most similar first, with the similarity."""
    if not fingerprint.signature:
        return []
    same_band = Q()
    for index in range(BANDS):
        same_band |= Q(**{f"band{index}": getattr(fingerprint, f"band{index}")})
    rows = candidates.filter(same_band, kind=fingerprint.kind).exclude(
        content_type_id=fingerprint.content_type_id, object_id=fingerprint.object_id
    )
    scored = [(row, similarity(row.signature, fingerprint.signature)) for row in rows[:MAX_CANDIDATES]]
    return sorted(((row, s) for row, s in scored if s >= MIN_SIMILARITY), key=lambda pair: -pair[1])


def recent(since: timedelta) -> QuerySet[Fingerprint]:
    return Fingerprint.objects.filter(created_at__gte=timezone.now() - since)


def removed() -> QuerySet[Fingerprint]:
    return Fingerprint.objects.filter(removed_at__isnull=False)
