"""jieba with the agency's domain dictionary, loaded once per process.

``load()`` is the start-up hook (gunicorn preloads the app, so the prefix dictionary is built once before fork,
DESIGN §3); it is idempotent, thread-safe, and a single check on every later call. A private
``jieba.Tokenizer`` keeps our domain words out of the process-wide default that other code may use.
"""

from __future__ import annotations

import logging
import threading
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import jieba

USER_DICT = Path(__file__).parent / "data" / "user_dict.txt"

_lock = threading.Lock()
_tokenizer: jieba.Tokenizer | None = None


def load() -> jieba.Tokenizer:
    """Build the tokenizer on the first call; return the same one afterwards."""
    global _tokenizer
    if _tokenizer is not None:
        return _tokenizer
    with _lock:
        if _tokenizer is None:
            _tokenizer = _build()
    return _tokenizer


def cut(text: str) -> list[str]:
    """Words of ``text``; HMM off, so unknown words split the same way every time (stable features)."""
    return load().lcut(text, HMM=False)


def _build() -> jieba.Tokenizer:
    jieba = import_jieba()
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    # Without a frequency jieba gives each word just enough weight to beat its own split (suggest_freq),
    # which keeps 家庭共济 and 门诊统筹 whole without swallowing their neighbours.
    with USER_DICT.open("rb") as user_dict:
        tokenizer.load_userdict(user_dict)
    return tokenizer


def import_jieba():
    """jieba itself, imported without its import-time warning and with its DEBUG logging silenced."""
    # jieba 0.42 imports pkg_resources, which setuptools ≥ 67.5 deprecates at import time (a DeprecationWarning,
    # a UserWarning in newer releases); and it logs "Building prefix dict..." at DEBUG to its own stderr handler.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="pkg_resources is deprecated")
        warnings.filterwarnings("ignore", message=".*pkg_resources", category=DeprecationWarning)
        import jieba
    logging.getLogger("jieba").setLevel(logging.WARNING)
    return jieba
