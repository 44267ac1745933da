"""Answers from the policy articles: BM25 over jieba words of each region's policy document (issue 10 §3).

The two documents ship as text in ``data/articles/`` (``nx.txt``: 宁夏…门诊共济保障经办规程, ``nm.txt``:
内蒙古…门诊共济保障机制实施细则). Each is split into its articles (第N条); ``best(region, question)`` returns
the article that matches the question best, or None when nothing matches well enough — the bot then says it
does not know and offers a human instead of guessing. The indexes are built once at start-up (``load``).
"""

from __future__ import annotations

import logging
import re
import threading
from dataclasses import dataclass
from pathlib import Path

import bm25s

from backend.intents import tokenizer

ARTICLES_DIR = Path(__file__).parent / "data" / "articles"
REGION_FILES = {"nx": "nx.txt", "nm": "nm.txt"}
# A best match scoring under this, or sharing fewer than two words (bigrams aside) with the question, is no
# answer: chosen by reading the matches of the training data's policy_question examples (no held-out data used).
MIN_SCORE = 5.0
MIN_SHARED_WORDS = 2
EXCERPT_CHARS = 260

_ARTICLE_START = re.compile(r"^\s*(?:\[bookmark:[^\]]*\])?\s*(第[一二三四五六七八九十百零]+条)\s*", re.MULTILINE)
_CHAPTER = re.compile(r"^\s*第[一二三四五六七八九十]+章.*$", re.MULTILINE)
_STOP = frozenset("的 了 吗 呢 啊 吧 呀 和 与 及 或 在 是 我 我的 你 可以 能 能不能 怎么 怎么办 什么 咋 咋办 吗 有 要 "
                  "一下 请问 后 时 为 对 由 按 其 等 中 以 将 到 个 了 不 会 还 就 都 也 这 那 哪些 多少".split())
# People's words for the documents' words: added to a question before it is matched (the documents say 欠缴,
# people say 欠费). Kept small and about this domain; the lexicon's canonical words are added too.
QUESTION_WORDS = {
    "欠费": "欠缴 欠缴费", "断缴": "欠缴", "没交": "欠缴", "额度": "支付限额 最高支付限额", "限额": "最高支付限额",
    "明年": "跨年 结转", "下一年": "跨年 结转", "没用完": "剩余部分 结转", "留到": "结转", "清零": "结转",
    "套现": "套取 现金 提取", "取现": "提取 现金 套取", "提现": "提取 现金", "换成现金": "套取 现金",
    "别人的": "冒用 他人 本人", "借用": "冒用 他人", "本人": "人证相符 本人", "退费": "退费 原渠道",
    "卡里没钱": "个人账户 余额 不足", "没钱": "余额 不足 现金", "刷卡": "结算", "拒绝": "拒绝 合理需求",
    "住院期间": "住院 期间", "同时享受": "同时 享受 不可同时享受", "重复报销": "重复 报销",
    "退休": "退休人员", "去世": "死亡 一次性支取", "出国": "出国 定居",
}
_CN_DIGITS = {"零": 0, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}


@dataclass(frozen=True)
class Article:
    region: str
    document: str  # the document's title, for the citation
    number: int  # N of 第N条
    heading: str  # 第十三条, as the document writes it
    text: str  # without its heading

    @property
    def citation(self) -> str:
        return f"依据《{self.document}》{self.heading}"

    def excerpt(self) -> str:
        return self.text if len(self.text) <= EXCERPT_CHARS else self.text[:EXCERPT_CHARS] + "…"


class RegionIndex:
    def __init__(self, articles: list[Article]):
        self.articles = articles
        self.tokens = [set(words(article.text)) for article in articles]
        self.retriever = bm25s.BM25()
        self.retriever.index([words(article.text) for article in articles], show_progress=False)

    def best(self, question: str) -> Article | None:
        query = [word for word in words(question_text(question)) if word in self.retriever.vocab_dict]
        if not query:
            return None
        scores = self.retriever.get_scores(query)
        index = int(scores.argmax())
        shared = {word for word in self.tokens[index] & set(query) if not word.startswith("~")}
        if scores[index] < MIN_SCORE or len(shared) < MIN_SHARED_WORDS:
            return None
        return self.articles[index]


def words(text: str) -> list[str]:
    """jieba words (particles left out) and character bigrams: 欠缴费 and 欠缴 still share 欠缴."""
    tokens = [word for word in tokenizer.cut(text.lower()) if word.strip() and word not in _STOP
              and re.search(r"[\u4e00-\u9fff0-9a-z]", word)]
    for run in re.findall(r"[\u4e00-\u9fff]+", text):
        tokens += ["~" + run[i:i + 2] for i in range(len(run) - 1)]
    return tokens


def question_text(question: str) -> str:
    extra = [words_for for said, words_for in QUESTION_WORDS.items() if said in question]
    return question + " " + " ".join(extra) if extra else question


def chinese_number(numeral: str) -> int:
    """十一 → 11, 二十三 → 23, 三十 → 30 (article numbers stay under a hundred)."""
    if "十" not in numeral:
        return _CN_DIGITS[numeral]
    tens, _, units = numeral.partition("十")
    return (_CN_DIGITS[tens] if tens else 1) * 10 + (_CN_DIGITS[units] if units else 0)


def parse(region: str, source: str) -> list[Article]:
    lines = [line.strip() for line in source.strip().splitlines() if line.strip()]
    title_lines = []
    for line in lines:
        if _CHAPTER.match(line) or _ARTICLE_START.match(line):
            break
        title_lines.append(line)
    title = "".join(title_lines)
    body = _CHAPTER.sub("", source)
    pieces = _ARTICLE_START.split(body)
    articles = []
    for heading, text in zip(pieces[1::2], pieces[2::2]):
        content = re.sub(r"\s+", "", re.sub(r"\[bookmark:[^\]]*\]", "", text))
        articles.append(Article(region, title, chinese_number(heading[1:-1]), heading, content))
    return articles


_lock = threading.Lock()
_indexes: dict[str, RegionIndex] = {}


def load() -> dict[str, RegionIndex]:
    if _indexes:
        return _indexes
    with _lock:
        if not _indexes:
            logging.getLogger("bm25s").setLevel(logging.WARNING)  # it logs every index build at DEBUG
            for region, filename in REGION_FILES.items():
                source = (ARTICLES_DIR / filename).read_text(encoding="utf-8")
                _indexes[region] = RegionIndex(parse(region, source))
    return _indexes


def best(region: str, question: str) -> Article | None:
    return load()[region].best(question)
