"""Small files of each kind the attachments take (and some they refuse), made here."""

from __future__ import annotations

import io

from PIL import Image

GPS_IFD = 0x8825
MAKE, MODEL, SOFTWARE, ARTIST = 0x010F, 0x0110, 0x0131, 0x013B
# Toulouse, place du Capitole: 43° 36' 16" N, 1° 26' 38" E.
GPS = {1: "N", 2: (43.0, 36.0, 16.0), 3: "E", 4: (1.0, 26.0, 38.0)}


def _exif() -> Image.Exif:
    exif = Image.Exif()
    exif[MAKE] = "PhoneMaker"
    exif[MODEL] = "Serial-XYZ-123"
    exif[SOFTWARE] = "CameraApp 1.0"
    exif[ARTIST] = "Agent Fictif"
    exif[GPS_IFD] = GPS
    return exif


def png(with_exif: bool = True) -> bytes:
    out = io.BytesIO()
    options = {"exif": _exif().tobytes()} if with_exif else {}
    Image.new("RGB", (16, 12), "red").save(out, format="PNG", **options)
    return out.getvalue()


def jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (16, 12), "blue").save(out, format="JPEG", exif=_exif().tobytes())
    return out.getvalue()


def heic() -> bytes:
    import pillow_heif

    pillow_heif.register_heif_opener()
    out = io.BytesIO()
    Image.new("RGB", (16, 12), "green").save(out, format="HEIF", exif=_exif().tobytes())
    return out.getvalue()


def _box(kind: bytes, payload: bytes) -> bytes:
    return (8 + len(payload)).to_bytes(4, "big") + kind + payload


def mp4(payload: int = 2000) -> bytes:
    """An MP4's box structure: ftyp (isom), a moov and an mdat of ``payload`` bytes."""
    ftyp = _box(b"ftyp", b"isom" + (512).to_bytes(4, "big") + b"isomiso2avc1mp41")
    return ftyp + _box(b"moov", b"\x00" * 32) + _box(b"mdat", b"\x00" * payload)


def pdf() -> bytes:
    from fpdf import FPDF

    document = FPDF()
    document.add_page()
    document.set_font("helvetica", size=12)
    document.cell(text="Main courante")
    return bytes(document.output())


HTML = b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>"
SVG = (
    b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg">'
    b"<script>alert(document.cookie)</script></svg>"
)
ZIP = b"PK\x03\x04" + b"\x00" * 60
