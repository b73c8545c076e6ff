"""What a file is, read from its first bytes (never from its name or what the sender claims).

Only the kinds a proof of delivery, challan or purchase order comes as are known: PDF, JPEG, PNG,
WebP. Pure: no Django, no I/O.
"""

from __future__ import annotations

MEDIA_TYPES = {"application/pdf": "PDF", "image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WebP"}
EXTENSIONS = {"application/pdf": ".pdf", "image/jpeg": ".jpg", "image/png": ".png", "image/webp": ".webp"}


def sniff(head: bytes) -> str | None:
    """The media type of a file starting with ``head`` (its first 16 bytes are enough), or None."""
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return None


def describe(head: bytes) -> str:
    """A few words on what a refused file looks like, for the error message."""
    if not head:
        return "an empty file"
    if head.startswith(b"PK\x03\x04"):
        return "a ZIP archive (or an Office document)"
    if head.startswith(b"GIF8"):
        return "a GIF image"
    if head.lstrip()[:1] in (b"<", b"{") or all(32 <= b < 127 or b in (9, 10, 13) for b in head[:64]):
        return "text"
    return "not a PDF, JPEG, PNG or WebP file"
