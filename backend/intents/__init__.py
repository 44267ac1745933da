"""The chatbot: understanding (jieba, lexicon, model + rules), the dialogue, answers from the services.

Importing this package is cheap; ``load()`` (called from the app's start-up hook, before gunicorn forks) trains the
intent model from the shipped data and indexes the policy articles once. ``understand()`` also loads on first
use, so nothing breaks without the hook, but the first message then pays the start-up.
"""


def load() -> None:
    """Train the NLU and index the policy articles; idempotent and thread-safe."""
    # Imported here, not at the top: importing backend.intents (e.g. for a type) must not pull in scikit-learn.
    from backend.intents import articles, nlu

    nlu.load()
    articles.load()
