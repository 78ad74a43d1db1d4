"""saypro.uploads: a file's type is read from its first bytes, whatever the client declares."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from saypro.uploads import HEAD_BYTES, sniff, stored_name


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 20, "image/png"),
        (b"\xff\xd8\xff\xe0" + b"\x00" * 20, "image/jpeg"),
        (b"GIF89a" + b"\x00" * 20, "image/gif"),
        (b"RIFF\x10\x00\x00\x00WEBPVP8 ", "image/webp"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3", "application/pdf"),
        ("Order 1234: the parcel never came. Grüße".encode(), "text/plain"),
        # A multi-byte character cut by the 512-byte window is still text.
        (b"a" * (HEAD_BYTES - 1) + "é".encode(), "text/plain"),
        (b"MZ\x90\x00\x03\x00\x00\x00\x04\x00", None),
        # Short and undecodable: not text (no window cut a character in two).
        (b"\x89\x89\x89", None),
        (b"PK\x03\x04\x14\x00\x06\x00", None),
    ],
)
def test_the_type_comes_from_the_content_not_the_declaration(content, expected):
    upload = SimpleUploadedFile("file.png", content, content_type="image/png")
    assert sniff(upload) == expected
    # Left at the start, so that storing the file stores all of it.
    assert upload.read() == content


@pytest.mark.parametrize(
    ("name", "content_type", "expected"),
    [
        ("screen.PNG", "image/png", "screen.PNG"),
        ("photo.jpeg", "image/jpeg", "photo.jpeg"),
        ("app.log", "text/plain", "app.log"),
        ("run.bat", "text/plain", "run.bat.txt"),
        ("page.html", "text/plain", "page.html.txt"),
        ("invoice.pdf", "image/png", "invoice.pdf.png"),
        ("../../etc/passwd", "text/plain", ".._.._etc_passwd.txt"),
    ],
)
def test_a_file_keeps_its_name_only_when_the_extension_agrees_with_its_content(name, content_type, expected):
    assert stored_name(name, content_type) == expected
