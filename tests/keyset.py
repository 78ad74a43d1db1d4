"""Walk an API list by its `next` links, as a client working through a queue does."""

from __future__ import annotations

from rest_framework.test import APIClient


def walk(client: APIClient, url: str, params: dict | None = None, *, page_size: int = 2) -> list[int]:
    """The ids of every row, page by page; fails on a loop or a repeated row."""
    seen: list[int] = []
    response = client.get(url, {**(params or {}), "page_size": page_size})
    while True:
        assert response.status_code == 200, response.content
        body = response.json()
        seen += [row["id"] for row in body["results"]]
        assert len(seen) == len(set(seen)), "a row came twice"
        if not body["next"]:
            return seen
        response = client.get(body["next"])
