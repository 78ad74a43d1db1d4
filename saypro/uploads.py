"""What an uploaded file really is, read from its first bytes: the type a client declares is not trusted.

ID documents (accounts), ticket attachments (support) and conversation attachments (messaging) all go through this
check; each app then decides which of the detected types it accepts.
"""

from __future__ import annotations

from django.core.files.uploadedfile import UploadedFile

# Magic numbers: (type, bytes, offset of the bytes in the file).
SIGNATURES: tuple[tuple[str, bytes, int], ...] = (
    ("image/jpeg", b"\xff\xd8\xff", 0),
    ("image/png", b"\x89PNG\r\n\x1a\n", 0),
    ("image/gif", b"GIF8", 0),
    ("image/webp", b"WEBP", 8),
    ("application/pdf", b"%PDF-", 0),
)
HEAD_BYTES = 512
# The extensions a file of each type may keep; the first is given to a file whose name claims something else.
EXTENSIONS: dict[str, tuple[str, ...]] = {
    "image/jpeg": (".jpg", ".jpeg", ".jpe", ".jfif"),
    "image/png": (".png",),
    "image/gif": (".gif",),
    "image/webp": (".webp",),
    "application/pdf": (".pdf",),
    "text/plain": (".txt", ".text", ".log", ".csv"),
}


def sniff(upload: UploadedFile) -> str | None:
    """The file's type from its content (one of SIGNATURES' types or "text/plain"), or None when it is none of
    them. The file is left at its start, ready to be stored."""
    upload.seek(0)
    head = upload.read(HEAD_BYTES)
    upload.seek(0)
    for content_type, magic, offset in SIGNATURES:
        if head[offset : offset + len(magic)] == magic:
            return content_type
    if b"\x00" not in head:
        try:
            head.decode("utf-8")
        except UnicodeDecodeError:
            # A multi-byte character cut at HEAD_BYTES is still text; a short file has no such excuse.
            if len(head) < HEAD_BYTES:
                return None
            try:
                head[:-3].decode("utf-8")
            except UnicodeDecodeError:
                return None
        return "text/plain"
    return None


def stored_name(name: str, content_type: str) -> str:
    """The name to store and serve a file under: its own when the extension agrees with the detected type,
    else with that type's extension added. Plain text named "run.bat" or "page.html" would otherwise be saved
    by the recipient's browser as a script or a page."""
    name = (name or "file").replace("/", "_").replace("\\", "_")
    extensions = EXTENSIONS.get(content_type, ())
    if not extensions or name.lower().endswith(extensions):
        return name
    return f"{name}{extensions[0]}"
