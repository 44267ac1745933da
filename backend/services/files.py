"""Uploaded files (invoice images, fee lists, certificates, signed 承诺书): checked, then kept outside the database.

The type is judged by the file's first bytes, not by its name or the client's Content-Type, and must agree with
the name's extension. Then the file is opened whole — an image decoded to its last pixel by Pillow, a PDF's every
page and content stream read by pypdf — because a reviewer must be able to read it: a PNG header followed by
zeros is refused (``file_unreadable``) at upload, not discovered by the reviewer days later. Files are stored
under UPLOAD_DIR by content hash, so a retried upload stores nothing new.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import warnings
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from PIL import Image, UnidentifiedImageError
from pypdf import PdfReader
from pypdf.errors import PyPdfError

from backend.errors import AppError, Unprocessable

# (content type, signature at offset 0, extensions that may carry it)
FILE_TYPES = (
    ("image/jpeg", b"\xff\xd8\xff", (".jpg", ".jpeg")),
    ("image/png", b"\x89PNG\r\n\x1a\n", (".png",)),
    ("application/pdf", b"%PDF-", (".pdf",)),
)


# An invoice photo is a few megapixels; a picture that decodes to more is a decompression bomb, not an invoice.
MAX_IMAGE_PIXELS = 50_000_000
MAX_PDF_PAGES = 200
log = logging.getLogger(__name__)


class PayloadTooLarge(AppError):
    status, reason, message = 413, "file_too_large", "文件过大"


@dataclass(frozen=True)
class StoredFile:
    filename: str
    content_type: str
    size_bytes: int
    sha256: str
    storage_path: str  # relative to UPLOAD_DIR


def store_upload(filename: str, data: bytes, max_bytes: int | None = None) -> StoredFile:
    """Check and store one file; raises a 4xx with its own reason when the file is refused. Writes no rows."""
    limit = max_bytes or current_app.config["MAX_CONTENT_LENGTH"]
    if not data:
        raise Unprocessable("文件为空", reason="file_empty")
    if len(data) > limit:
        raise PayloadTooLarge(f"文件过大（上限 {limit // (1024 * 1024)} MB）", limit_bytes=limit)
    content_type = detect_type(filename, data)
    check_readable(content_type, data)
    digest = hashlib.sha256(data).hexdigest()
    relative = Path(digest[:2]) / f"{digest}{Path(filename).suffix.lower()}"
    target = Path(current_app.config["UPLOAD_DIR"]) / relative
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_suffix(target.suffix + f".{os.getpid()}.tmp")
        temporary.write_bytes(data)
        temporary.replace(target)  # atomic: a reader never sees half a file
    return StoredFile(Path(filename).name[:255], content_type, len(data), digest, str(relative))


def detect_type(filename: str, data: bytes) -> str:
    extension = Path(filename).suffix.lower()
    for content_type, signature, extensions in FILE_TYPES:
        if data.startswith(signature):
            if extension not in extensions:
                raise Unprocessable("文件内容与文件名不符", reason="file_type_mismatch",
                                    detected=content_type, extension=extension)
            return content_type
    raise Unprocessable("仅支持 JPG、PNG 图片和 PDF 文件", reason="file_type_not_allowed")


def check_readable(content_type: str, data: bytes) -> None:
    """Open the whole file; a file that does not open is refused with 422 ``file_unreadable`` and why."""
    problem = _image_problem(data) if content_type.startswith("image/") else _pdf_problem(data)
    if problem is not None:
        raise Unprocessable(f"文件无法打开（{problem}），请重新拍摄或导出后上传", reason="file_unreadable",
                            content_type=content_type)


def _image_problem(data: bytes) -> str | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                if image.width * image.height > MAX_IMAGE_PIXELS:
                    return "图片像素过多"
                image.load()  # decodes every pixel: a truncated or corrupt image fails here
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        return "图片像素过多"
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        log.info("upload refused: image does not decode: %s", type(exc).__name__)
        return "图片已损坏或不完整"
    return None


def _pdf_problem(data: bytes) -> str | None:
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted and not reader.decrypt(""):
            return "PDF 已加密"
        pages = reader.pages
        if len(pages) == 0:
            return "PDF 没有页面"
        if len(pages) > MAX_PDF_PAGES:
            return f"PDF 超过 {MAX_PDF_PAGES} 页"
        for page in pages:
            page.mediabox  # noqa: B018 — every page must have a size
            contents = page.get_contents()
            if contents is not None:
                contents.get_data()  # decompresses the content stream
    except (PyPdfError, OSError, ValueError, KeyError, TypeError, AttributeError, RecursionError) as exc:
        log.info("upload refused: PDF does not open: %s", type(exc).__name__)
        return "PDF 已损坏或不完整"
    return None


def open_stored(storage_path: str) -> Path:
    root = Path(current_app.config["UPLOAD_DIR"]).resolve()
    path = (root / storage_path).resolve()
    if root not in path.parents:
        raise Unprocessable("文件路径无效", reason="file_path_invalid")
    return path
