"""The API's JSON parser: DRF's, with a bound on nesting and no NUL characters.

Python's JSON decoder recurses once per level: a 100 KB body of 50,000 nested brackets raises RecursionError, a
server error, before any view sees it, on endpoints anyone may call. The depth is measured first, in one pass
that does not recurse, and a body nested deeper than any request of this API needs is refused as a parse error
(a 400 in the error shape). NUL characters (`\\u0000`) are refused too: PostgreSQL stores none in text or JSON.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from rest_framework import parsers
from rest_framework.exceptions import ParseError
from rest_framework.utils import json

# Requests of this API nest a few levels (an object of lists of objects); 32 leaves room and stays far below
# the recursion limit of the decoder and of every serializer that walks the data after it.
MAX_DEPTH = 32

# A JSON string (skipped whole, so brackets inside it do not count) or one bracket. An unterminated string runs
# to the end of the text, so that no input makes the scan go back over what it has read (the decoder will
# refuse such a body anyway).
_TOKEN = re.compile(r'"[^"\\]*(?:\\.?[^"\\]*)*(?:"|\Z)|[\[\]{}]', re.DOTALL)


def json_depth_exceeds(text: str, limit: int = MAX_DEPTH) -> bool:
    depth = 0
    for match in _TOKEN.finditer(text):
        token = match.group()
        if token in "[{":
            depth += 1
            if depth > limit:
                return True
        elif token in "]}":
            depth -= 1
    return False


def _has_nul(data: Any) -> bool:
    pending = [data]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False


class JSONParser(parsers.JSONParser):
    def parse(self, stream: Any, media_type: str | None = None, parser_context: Mapping[str, Any] | None = None) -> Any:
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = codecs.getreader(encoding)(stream).read()
        except ValueError as exc:
            raise ParseError(f"JSON parse error - {exc}") from None
        if json_depth_exceeds(text):
            raise ParseError(f"JSON parse error - nested deeper than {MAX_DEPTH} levels.")
        try:
            data = json.loads(text, parse_constant=json.strict_constant if self.strict else None)
        except ValueError as exc:
            raise ParseError(f"JSON parse error - {exc}") from None
        if _has_nul(data):
            raise ParseError("JSON parse error - NUL characters (\\u0000) are not allowed.")
        return data
