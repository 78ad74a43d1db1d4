from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from support.services import comment_topics_refresh


class Command(BaseCommand):
    help = (
        "Group the last year's survey and feedback comments into topics now (the weekly schedule does the same), "
        "keeping the topics found again and retiring the others."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        result = comment_topics_refresh()
        self.stdout.write(
            f"{result.comments} comments read, {result.assigned} placed in {result.topics} topics "
            f"({result.new} new, {result.retired} retired)."
        )
