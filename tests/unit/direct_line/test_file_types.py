"""The attachments' types, told from their bytes: a table of files and what they are."""

from __future__ import annotations

import io

import pytest

from intake_service.direct_line.rules import file_types
from intake_service.direct_line.rules.file_types import FileRefused, SizeLimits, sniff
from tests import attachment_files as files

LIMITS = SizeLimits(image=10_000, video=100_000, pdf=5_000)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (files.png(), "image/png"),
        (files.jpeg(), "image/jpeg"),
        (files.heic(), "image/heic"),
        (files.mp4(), "video/mp4"),
        (files.pdf(), "application/pdf"),
        (files.HTML, None),
        (files.SVG, None),
        (files.ZIP, None),
        (b"#!/bin/sh\nrm -rf /\n", None),
        (b"GIF89a" + b"\x00" * 20, None),
        # An HTML page that names PDF inside is still HTML.
        (b"<html>%PDF-1.7</html>", None),
        # AVIF and QuickTime share the ISO container: not taken.
        (b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1miaf", None),
        (b"\x00\x00\x00\x14ftypqt  \x00\x00\x00\x00qt  ", None),
        (b"", None),
    ],
    ids=[
        "png",
        "jpeg",
        "heic",
        "mp4",
        "pdf",
        "html",
        "svg",
        "zip",
        "script",
        "gif",
        "html-naming-pdf",
        "avif",
        "quicktime",
        "empty",
    ],
)
def test_the_type_is_read_from_the_content(data: bytes, expected: str | None) -> None:
    assert sniff(data[: file_types.HEAD_BYTES]) == expected


def test_a_png_named_pdf_is_a_png_and_downloads_as_one() -> None:
    assert sniff(files.png()) == "image/png"
    assert file_types.download_name("rapport.pdf", "image/png") == "rapport.png"
    assert file_types.download_name("../../etc/passwd", "image/png") == "passwd.png"
    assert file_types.download_name('a";b.jpg', "image/jpeg") == "ab.jpg"
    assert file_types.download_name("", "application/pdf") == "piece-jointe.pdf"


@pytest.mark.parametrize(
    ("data", "status"),
    [(files.HTML, 415), (files.SVG, 415), (b"", 422), (files.png(), None)],
    ids=["html", "svg-with-script", "empty", "png"],
)
def test_check_refuses_what_is_not_taken(data: bytes, status: int | None) -> None:
    if status is None:
        assert file_types.check(data[:64], len(data), LIMITS) == "image/png"
        return
    with pytest.raises(FileRefused) as refused:
        file_types.check(data[:64], len(data), LIMITS)
    assert refused.value.status == status


def test_each_kind_has_its_size_limit() -> None:
    head = files.pdf()[:64]
    assert file_types.check(head, 5_000, LIMITS) == "application/pdf"
    with pytest.raises(FileRefused) as refused:
        file_types.check(head, 5_001, LIMITS)
    assert refused.value.status == 413
    # A video may be larger than a PDF.
    assert file_types.check(files.mp4()[:64], 50_000, LIMITS) == "video/mp4"
    assert LIMITS.largest == 100_000


def test_a_truncated_pdf_or_mp4_is_incomplete() -> None:
    whole = files.pdf()
    assert file_types.pdf_complete(whole[-1024:])
    assert not file_types.pdf_complete(whole[: len(whole) // 2][-1024:])
    video = files.mp4()
    assert file_types.mp4_complete(io.BytesIO(video), len(video))
    cut = video[:-100]
    assert not file_types.mp4_complete(io.BytesIO(cut), len(cut))
    assert not file_types.mp4_complete(io.BytesIO(video[:30]), 30)
