"""Uploads are opened whole before they are accepted (issue #11.7): a file that does not open is refused with a
reason, and nothing is stored."""

from __future__ import annotations

import pytest

from backend.errors import Unprocessable
from backend.services import files
from tests.files import jpeg, pdf, png


@pytest.fixture
def upload_dir(app, tmp_path):
    app.config["UPLOAD_DIR"] = str(tmp_path)
    return tmp_path


def stored_files(root) -> list:
    return [path for path in root.rglob("*") if path.is_file()]


@pytest.mark.parametrize("name, data", [("发票.png", png()), ("发票.jpg", jpeg()), ("清单.pdf", pdf())])
def test_real_images_and_pdfs_are_accepted_and_stored(upload_dir, name, data):
    stored = files.store_upload(name, data)
    assert stored.size_bytes == len(data)
    assert stored_files(upload_dir) == [upload_dir / stored.storage_path]


@pytest.mark.parametrize("name, data", [
    ("发票.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64),  # the case: a PNG header followed by zeros
    ("发票.png", png()[:-30]),  # cut off before its last chunks
    ("发票.jpg", b"\xff\xd8\xff" + b"\x00" * 64),
    ("发票.jpg", jpeg()[:40]),
    ("清单.pdf", b"%PDF-1.4\n" + b"%" * 64),
    ("清单.pdf", b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"),  # no pages
])
def test_a_file_that_does_not_open_is_refused_with_a_reason_and_not_stored(upload_dir, name, data):
    with pytest.raises(Unprocessable) as refused:
        files.store_upload(name, data)
    assert refused.value.reason == "file_unreadable"
    assert "无法打开" in refused.value.message
    assert stored_files(upload_dir) == []


def test_the_type_check_by_first_bytes_still_comes_first(upload_dir):
    with pytest.raises(Unprocessable) as refused:
        files.store_upload("发票.pdf", png())
    assert refused.value.reason == "file_type_mismatch"
