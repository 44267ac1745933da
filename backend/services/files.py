"""Uploaded files (invoice images, fee lists, certificates, signed 承诺书): checked, then kept outside the database.

The type is judged by the file's first bytes, not by its name or the client's Content-Type, and must agree with
the name's extension; files are stored under UPLOAD_DIR by content hash, so a retried upload stores nothing new.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from flask import current_app

from backend.errors import AppError, Unprocessable

# (content type, signature at offset 0, extensions that may carry it)
FILE_TYPES = (
    ("image/jpeg", b"\xff\xd8\xff", (".jpg", ".jpeg")),
    ("image/png", b"\x89PNG\r\n\x1a\n", (".png",)),
    ("application/pdf", b"%PDF-", (".pdf",)),
)


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


def open_stored(storage_path: str) -> Path:
    root = Path(current_app.config["UPLOAD_DIR"]).resolve()
    path = (root / storage_path).resolve()
    if root not in path.parents:
        raise Unprocessable("文件路径无效", reason="file_path_invalid")
    return path
