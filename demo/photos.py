"""Listing photos for the demo: small pictures drawn with Pillow, so the staff pages show real thumbnails.

A few pictures per category, stored once in the default storage under the listing photos' folder and shared by
the category's demo listings (a quarter of listings with files of their own would be gigabytes of noise). Each
picture is drawn from its key alone: the same key always gives the same picture, downloaded from nowhere.
"""

from __future__ import annotations

import io
import random
from collections.abc import Iterable

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from PIL import Image, ImageDraw, ImageFont

PER_CATEGORY = 4
# Square, like the staff pages' thumbnails: nothing is cropped away.
SIZE = (400, 400)
FOLDER = "listings/demo"
# Pairs of colours the backgrounds fade between.
PALETTES = (
    ((236, 240, 244), (176, 190, 205)),
    ((250, 240, 228), (214, 180, 140)),
    ((232, 244, 234), (150, 190, 160)),
    ((244, 234, 246), (190, 160, 200)),
    ((250, 246, 222), (220, 200, 120)),
)


def photo_key(category_slug: str, number: int) -> str:
    return f"{FOLDER}/{category_slug}-{number % PER_CATEGORY}.jpg"


def photo_draw(category_slug: str, number: int) -> bytes:
    """A JPEG: a soft background, an object of the category's colour on a shadow, and the category as caption."""
    rng = random.Random(f"{category_slug}:{number}")
    width, height = SIZE
    top, bottom = rng.choice(PALETTES)
    image = Image.new("RGB", SIZE)
    draw = ImageDraw.Draw(image)
    for y in range(height):
        share = y / (height - 1)
        shade = tuple(round(a + (b - a) * share) for a, b in zip(top, bottom, strict=True))
        draw.line([(0, y), (width, y)], fill=shade)
    colour = tuple(rng.randrange(30, 200) for _ in range(3))
    cx, cy = width // 2 + rng.randrange(-40, 41), height // 2 - 20 + rng.randrange(-20, 21)
    w, h = rng.randrange(150, 240), rng.randrange(110, 190)
    draw.ellipse([cx - w // 2 - 10, cy + h // 2 - 8, cx + w // 2 + 10, cy + h // 2 + 14], fill=(90, 90, 90))
    shape = rng.randrange(3)
    box = [cx - w // 2, cy - h // 2, cx + w // 2, cy + h // 2]
    if shape == 0:
        draw.rounded_rectangle(box, radius=18, fill=colour, outline=(40, 40, 40), width=3)
    elif shape == 1:
        draw.ellipse(box, fill=colour, outline=(40, 40, 40), width=3)
    else:
        draw.polygon([(cx, cy - h // 2), (cx + w // 2, cy + h // 2), (cx - w // 2, cy + h // 2)], fill=colour)
    font = ImageFont.load_default(size=22)
    caption = f"{category_slug.replace('-', ' ').title()} · photo {number % PER_CATEGORY + 1}"
    draw.rectangle([0, height - 44, width, height], fill=(255, 255, 255))
    draw.text((width // 2, height - 22), caption, fill=(30, 30, 30), font=font, anchor="mm")
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=80)
    return out.getvalue()


def photos_ensure(category_slugs: Iterable[str]) -> int:
    """Store the pictures the categories' demo listings refer to, those missing only; returns how many were new."""
    written = 0
    for slug in category_slugs:
        for number in range(PER_CATEGORY):
            key = photo_key(slug, number)
            if not default_storage.exists(key):
                default_storage.save(key, ContentFile(photo_draw(slug, number)))
                written += 1
    return written
