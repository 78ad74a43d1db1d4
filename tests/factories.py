from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import factory
from django.contrib.auth.models import Group
from django.utils import timezone

from accounts.models import Registration, RegistrationStatus, User
from marketplace.models import Category, Listing

PASSWORD = "correct-horse-battery-staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    full_name = factory.Faker("name")
    phone = factory.Sequence(lambda n: f"+2782{n:07d}")
    country = "ZA"
    region = "Gauteng"
    language = "en"
    age_band = "25-34"
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def roles(self, create, extracted, **kwargs):
        if not create or not extracted:
            return
        self.groups.add(*Group.objects.filter(name__in=extracted))
        self.is_staff = True
        self.save(update_fields=["is_staff", "password"])

    @classmethod
    def _after_postgeneration(cls, instance, create, results=None):
        if create:
            instance.save()


class RegistrationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Registration

    user = factory.SubFactory(UserFactory)
    status = RegistrationStatus.STARTED
    canonical_email = factory.LazyAttribute(lambda o: o.user.email)
    phone_e164 = factory.LazyAttribute(lambda o: o.user.phone)
    started_at = factory.LazyFunction(timezone.now)
    ip_address = "198.51.100.7"
    subnet = "198.51.100.0/24"


class ListingFactory(factory.django.DjangoModelFactory):
    """A listing written directly (no detection); tests of detection post through marketplace.services."""

    class Meta:
        model = Listing

    seller = factory.SubFactory(UserFactory)
    title = factory.Sequence(lambda n: f"Samsung Galaxy A{n % 50} 64 GB in good condition")
    description = "Used for a year, no scratches, with the charger and the box. Collection in Sandton."
    price = Decimal("2500.00")
    currency = "ZAR"
    category = factory.LazyFunction(lambda: Category.objects.get(slug="phones"))
    region = "Gauteng"
    expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=30))
