"""The one pagination shape: ``page``/``page_size`` in, the ``X-Pagination`` header out — as flask-smorest's
``@blp.paginate()`` writes it — also for a list whose body is an object of its own (``{items, page, ...}``)."""

from __future__ import annotations

import json

from flask_smorest.pagination import PaginationMixin


def pagination_header(total: int, page: int, page_size: int) -> dict[str, str]:
    # The same metadata, built by the same code, as the lists paginated by @blp.paginate().
    return {"X-Pagination": json.dumps(PaginationMixin._make_pagination_metadata(page, page_size, total))}
