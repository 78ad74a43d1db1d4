"""Nearest-rank percentiles in the database: the value at rank ceil(fraction × n), on PostgreSQL by PERCENTILE_DISC
in one aggregate, elsewhere by ORDER BY … OFFSET; both give what plain Python gives over the same values."""

from __future__ import annotations

import math
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import F

from marketplace.models import Listing
from saypro.percentiles import nearest_ranks
from tests.factories import ListingFactory, UserFactory

pytestmark = pytest.mark.django_db

PRICES = [70, 10, 110, 40, 90, 20, 60, 100, 30, 80, 50, 50]
FRACTIONS = [0.1, 0.25, 0.5, 0.9, 1.0]


def by_hand(values: list[int], fraction: float) -> int:
    return sorted(values)[math.ceil(fraction * len(values)) - 1]


@pytest.fixture
def listings():
    seller = UserFactory()
    for price in PRICES:
        ListingFactory(seller=seller, price=Decimal(price))


@pytest.mark.parametrize("vendor", ["database's own", "ORDER BY … OFFSET"])
def test_nearest_ranks_match_plain_python(listings, vendor, monkeypatch):
    if vendor != "database's own":
        monkeypatch.setattr(connection, "vendor", "other")
    ranks = nearest_ranks(Listing.objects.all(), F("price"), FRACTIONS, len(PRICES))
    assert [int(rank) for rank in ranks] == [by_hand(PRICES, fraction) for fraction in FRACTIONS]


def test_no_rows_give_no_percentile():
    assert nearest_ranks(Listing.objects.none(), F("price"), [0.5, 0.9], 0) == [None, None]
