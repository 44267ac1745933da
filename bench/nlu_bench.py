"""NLU latency: ``understand()`` per message against a bare ``jieba.lcut`` of the same texts (DESIGN §4.10).

``run(texts)`` returns the numbers and prints nothing; ``rows()`` is the harness entry (``python -m bench
nlu_bench``), timing the shipped training questions against the target p99 <= 5 ms per message (issue 6).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Sequence

from backend.intents import nlu, tokenizer
from bench.harness import Row

TARGET_P99_MS = 5.0


def rows() -> list[Row]:
    texts = [example.text for example in nlu.load_examples(nlu.TRAINING_FILE)]
    result = run(texts)
    return [
        Row("nlu understand() p50 per message", result["understand_p50_ms"], "ms",
            "jieba.lcut p50", result["jieba_lcut_p50_ms"], "none"),
        Row("nlu understand() p99 per message", result["understand_p99_ms"], "ms",
            "jieba.lcut p99", result["jieba_lcut_p99_ms"], f"value <= {TARGET_P99_MS:g} ms",
            met=result["understand_p99_ms"] <= TARGET_P99_MS),
    ]  # fmt: skip


def run(texts: Sequence[str], rounds: int = 3) -> dict:
    """p50/p99 milliseconds per message for understand() and for jieba.lcut, and their ratio at p50.

    Both are loaded before timing (the NLU's start-up cost is not per message); every text is timed
    ``rounds`` times so that p99 is not one cold cache.
    """
    if not texts:
        raise ValueError("nothing to time")
    nlu.load()
    jieba = tokenizer.import_jieba()
    jieba.initialize()
    understand_ms = _timings(nlu.understand, texts, rounds)
    baseline_ms = _timings(jieba.lcut, texts, rounds)
    result = {
        "messages": len(texts) * rounds,
        "understand_p50_ms": _percentile(understand_ms, 50),
        "understand_p99_ms": _percentile(understand_ms, 99),
        "jieba_lcut_p50_ms": _percentile(baseline_ms, 50),
        "jieba_lcut_p99_ms": _percentile(baseline_ms, 99),
    }
    result["ratio_p50"] = result["understand_p50_ms"] / result["jieba_lcut_p50_ms"]
    result["ratio_p99"] = result["understand_p99_ms"] / result["jieba_lcut_p99_ms"]
    return result


def _timings(function, texts: Sequence[str], rounds: int) -> list[float]:
    timings = []
    for _ in range(rounds):
        for text in texts:
            started = time.perf_counter()
            function(text)
            timings.append((time.perf_counter() - started) * 1000)
    return timings


def _percentile(values: list[float], percent: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[percent - 1]
