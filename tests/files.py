"""Real, small files for upload tests: they must open whole (backend/services/files.py decodes every upload)."""

from __future__ import annotations

import io

from PIL import Image
from pypdf import PdfWriter


def png(shade: int = 0) -> bytes:
    """An 8×8 PNG; a different shade gives different bytes (a different stored file)."""
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (shade % 256, 120, 200)).save(out, format="PNG")
    return out.getvalue()


def jpeg(shade: int = 0) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (shade % 256, 120, 200)).save(out, format="JPEG")
    return out.getvalue()


def pdf(title: str = "test") -> bytes:
    """A one-page A4 PDF; a different title gives different bytes."""
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer.add_metadata({"/Title": title})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
