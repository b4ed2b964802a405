"""A photo's metadata: the EXIF location is kept (where the photo was taken helps the
police), everything else is stripped (camera serial, owner, software, dates, thumbnails,
comments, XMP), by decoding the image and writing it anew with the GPS tags only.

Decoding also proves the file is a whole image: a cut or forged one is refused.
The orientation tag is applied to the pixels first, so the photo still stands upright.
HEIC/HEIF is read and written through pillow-heif.
"""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import pillow_heif
from PIL import Image, ImageOps, UnidentifiedImageError

from intake_service.direct_line.rules.file_types import HEIC, HEIF, JPEG, PNG, FileRefused

pillow_heif.register_heif_opener()

_GPS_IFD = 0x8825
_FORMATS = {JPEG: "JPEG", PNG: "PNG", HEIC: "HEIF", HEIF: "HEIF"}
# A photo of more pixels than this is refused (a decompression bomb, not a photo).
MAX_PIXELS = 80_000_000


def strip_metadata(path: Path, content_type: str) -> bytes:
    """The image at ``path`` written anew with its GPS tags only; FileRefused (422) when
    it cannot be decoded whole."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as opened:
                if _FORMATS[content_type] != opened.format and opened.format != "HEIF":
                    raise FileRefused(422, "The image's content does not match its signature.")
                if opened.width * opened.height > MAX_PIXELS:
                    raise FileRefused(422, "The image has too many pixels.")
                gps = opened.getexif().get_ifd(_GPS_IFD)
                icc = opened.info.get("icc_profile")
                opened.load()
                image = ImageOps.exif_transpose(opened)
    except FileRefused:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise FileRefused(422, "The image is damaged or incomplete.") from None
    except Image.DecompressionBombWarning:
        raise FileRefused(422, "The image has too many pixels.") from None
    # Nothing of the original's info (EXIF, XMP, comments) is written back by a plugin.
    image.info.clear()
    exif = Image.Exif()
    if gps:
        exif[_GPS_IFD] = gps
    options: dict[str, object] = {"exif": exif.tobytes()} if gps else {}
    if icc:
        # The colour profile is how the colours read, not who took the photo.
        options["icc_profile"] = icc
    if content_type == JPEG:
        if image.mode not in ("RGB", "L", "CMYK"):
            image = image.convert("RGB")
        options["quality"] = 92
    out = io.BytesIO()
    image.save(out, format=_FORMATS[content_type], **options)
    return out.getvalue()
