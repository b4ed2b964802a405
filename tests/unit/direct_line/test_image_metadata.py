"""Photos keep their EXIF location and lose every other metadata; a cut photo is refused."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from intake_service.direct_line.image_metadata import strip_metadata
from intake_service.direct_line.rules.file_types import FileRefused
from tests import attachment_files as files


@pytest.mark.parametrize(
    ("make", "content_type"),
    [(files.jpeg, "image/jpeg"), (files.png, "image/png"), (files.heic, "image/heic")],
    ids=["jpeg", "png", "heic"],
)
def test_only_the_location_is_kept(tmp_path: Path, make: object, content_type: str) -> None:
    path = tmp_path / "photo"
    path.write_bytes(make())  # type: ignore[operator]
    cleaned = strip_metadata(path, content_type)
    with Image.open(io.BytesIO(cleaned)) as image:
        exif = image.getexif()
        assert image.size == (16, 12)
    assert files.MAKE not in exif
    assert files.MODEL not in exif
    assert files.ARTIST not in exif
    gps = exif.get_ifd(files.GPS_IFD)
    assert gps[1] == "N"
    assert tuple(float(v) for v in gps[2]) == (43.0, 36.0, 16.0)
    assert b"Serial-XYZ-123" not in cleaned
    assert b"Agent Fictif" not in cleaned


@pytest.mark.parametrize(
    ("make", "content_type"),
    [(files.jpeg, "image/jpeg"), (files.png, "image/png")],
    ids=["jpeg", "png"],
)
def test_a_truncated_photo_is_refused(tmp_path: Path, make: object, content_type: str) -> None:
    data: bytes = make()  # type: ignore[operator]
    path = tmp_path / "cut"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(FileRefused) as refused:
        strip_metadata(path, content_type)
    assert refused.value.status == 422
