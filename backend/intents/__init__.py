"""Chatbot understanding: jieba tokenizer with the domain dictionary, keyword + lexical NLU, entities.

Importing this package is cheap; ``load()`` (call it from the app's start-up hook, before gunicorn forks) builds
the tokenizer and the default NLU once. ``understand()`` also loads on first use, so nothing breaks without the
hook, but the first message then pays the ~2 s start-up.
"""


def load() -> None:
    """Load jieba's dictionary, the domain words and the shipped NLU model; idempotent and thread-safe."""
    from backend.intents import nlu

    nlu.load()
