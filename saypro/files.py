"""Private uploads (message and ticket attachments) are served through views that check access, never from a
public media URL; this builds the response they all send."""

from __future__ import annotations

import mimetypes
import posixpath

from django.core.exceptions import SuspiciousFileOperation
from django.core.files import File
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404

# Types a browser shows without running anything; every other upload is offered as a download, so that an
# uploaded HTML or SVG file can never run as a page of this site.
IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
INLINE_TYPES = IMAGE_TYPES | {"application/pdf", "text/plain"}


def is_image(content_type: str) -> bool:
    """Whether pages may show the file as a picture (a thumbnail): SVG is no such type, as it can carry script."""
    return (content_type or "").split(";")[0].strip().lower() in IMAGE_TYPES


def private_file_response(file: File, *, name: str, content_type: str) -> FileResponse:
    content_type = (content_type or "").split(";")[0].strip().lower() or "application/octet-stream"
    inline = content_type in INLINE_TYPES
    response = FileResponse(
        file.open("rb"),
        filename=name,
        as_attachment=not inline,
        content_type=content_type if inline else "application/octet-stream",
    )
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox; default-src 'none'"
    return response


def stored_file_response(key: str) -> FileResponse:
    """A file of the default storage named by its key (a listing photo), typed by its name; 404 when it is missing.

    The caller has checked access and took `key` from the object it serves, never from the request."""
    try:
        file = default_storage.open(key)
    except (FileNotFoundError, SuspiciousFileOperation):
        raise Http404("The file is not in storage.") from None
    content_type = mimetypes.guess_type(key)[0] or "application/octet-stream"
    return private_file_response(file, name=posixpath.basename(key), content_type=content_type)
