"""Which files an incident may carry, told from their bytes, never from their name.

Photos (JPEG, PNG, HEIC/HEIF), short video extracts (MP4) and PDFs; everything else
(HTML, SVG, scripts, archives, office files...) is refused. Five signatures, written
here rather than taken from a library (docs/decisions.md): the allow-list is the point,
and a library's hundreds of guesses would only widen it. Pure: tested in
tests/unit/direct_line/test_file_types.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import BinaryIO
from urllib.parse import quote

# How many leading bytes ``sniff`` needs.
HEAD_BYTES = 64

JPEG = "image/jpeg"
PNG = "image/png"
HEIC = "image/heic"
HEIF = "image/heif"
MP4 = "video/mp4"
PDF = "application/pdf"

# content type -> its kind (each kind has its size limit) and the extension it is
# downloaded with.
KIND = {JPEG: "image", PNG: "image", HEIC: "image", HEIF: "image", MP4: "video", PDF: "pdf"}
EXTENSION = {JPEG: ".jpg", PNG: ".png", HEIC: ".heic", HEIF: ".heif", MP4: ".mp4", PDF: ".pdf"}
IMAGES = frozenset(t for t, kind in KIND.items() if kind == "image")

# ISO base media files (an ``ftyp`` box first) say what they are by brand.
_HEIC_BRANDS = frozenset({b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx"})
_HEIF_BRANDS = frozenset({b"mif1", b"msf1"})
_MP4_BRANDS = frozenset(
    {b"isom", b"iso2", b"iso4", b"iso5", b"iso6", b"mp41", b"mp42", b"avc1", b"M4V ", b"dash"}
)
# Images in the same container this service does not take (they name mif1 too).
_REFUSED_BRANDS = frozenset({b"avif", b"avis", b"qt  ", b"crx "})


class FileRefused(Exception):
    """A file this service does not keep; ``status`` is the answer (413, 415 or 422)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class SizeLimits:
    """The largest file of each kind, in bytes (settings ATTACHMENT_MAX_*_BYTES)."""

    image: int
    video: int
    pdf: int

    def of(self, content_type: str) -> int:
        limits: Mapping[str, int] = {"image": self.image, "video": self.video, "pdf": self.pdf}
        return limits[KIND[content_type]]

    @property
    def largest(self) -> int:
        return max(self.image, self.video, self.pdf)


def _iso_brand(head: bytes) -> str | None:
    """The type of an ISO base media file (HEIC, HEIF, MP4) from its ``ftyp`` box."""
    if head[4:8] != b"ftyp":
        return None
    box_size = int.from_bytes(head[0:4], "big")
    major = head[8:12]
    compatible = {head[i : i + 4] for i in range(16, min(box_size, len(head)) - 3, 4)}
    if major in _REFUSED_BRANDS or compatible & _REFUSED_BRANDS:
        return None
    for brands in ({major}, compatible):
        if brands & _HEIC_BRANDS:
            return HEIC
        if brands & _HEIF_BRANDS:
            return HEIF
        if brands & _MP4_BRANDS:
            return MP4
    return None


def sniff(head: bytes) -> str | None:
    """The content type of a file starting with ``head``, or None: not one we take."""
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    # Readers accept %PDF- anywhere in the first KiB; here it must come first, so an
    # HTML page with a PDF header inside is not a PDF.
    if head.startswith(b"%PDF-"):
        return PDF
    return _iso_brand(head)


def check(head: bytes, size: int, limits: SizeLimits) -> str:
    """The content type of a file of ``size`` bytes starting with ``head``; FileRefused
    (415) for a type not taken, (413) for a file over its type's limit, (422) empty."""
    if size == 0:
        raise FileRefused(422, "The file is empty.")
    content_type = sniff(head)
    if content_type is None:
        raise FileRefused(
            415,
            "Only photos (JPEG, PNG, HEIC), MP4 video extracts and PDF documents are taken; "
            "the type is read from the file's content, not its name.",
        )
    limit = limits.of(content_type)
    if size > limit:
        raise FileRefused(
            413, f"A file of this type ({content_type}) is at most {limit} bytes; this is {size}."
        )
    return content_type


def pdf_complete(tail: bytes) -> bool:
    """A whole PDF ends with ``%%EOF`` (in its last KiB: some writers add a line after)."""
    return b"%%EOF" in tail[-1024:]


def mp4_complete(stream: BinaryIO, size: int) -> bool:
    """Whether the top-level boxes of an MP4 of ``size`` bytes end exactly at its end
    (a cut file's last box claims bytes it does not have)."""
    offset = 0
    while offset < size:
        stream.seek(offset)
        header = stream.read(16)
        if len(header) < 8:
            return False
        box_size = int.from_bytes(header[0:4], "big")
        if box_size == 1:  # a 64-bit size follows the type
            if len(header) < 16:
                return False
            box_size = int.from_bytes(header[8:16], "big")
        elif box_size == 0:  # the last box runs to the end of the file
            return True
        if box_size < 8:
            return False
        offset += box_size
    return offset == size


def download_name(filename: str, content_type: str) -> str:
    """The name a file is downloaded with: the sender's, with the extension of what it
    really is (a PNG sent as ``photo.pdf`` downloads as ``photo.png``)."""
    stem = filename.rsplit("/", 1)[-1].rsplit("\\", 1)[-1]
    if "." in stem:
        stem = stem.rsplit(".", 1)[0]
    stem = "".join(c for c in stem if c.isprintable() and c not in '"\\;').strip() or "piece-jointe"
    return stem[:200] + EXTENSION[content_type]


# What a download may never do in a browser: be sniffed into HTML, run, be cached.
DOWNLOAD_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox",
    "Cache-Control": "private, no-store",
    "Cross-Origin-Resource-Policy": "same-origin",
}


def content_disposition(filename: str) -> str:
    """``attachment`` with an ASCII fallback name and the UTF-8 name (RFC 6266)."""
    fallback = filename.encode("ascii", "replace").decode("ascii").replace("?", "_")
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"
