"""The words the dialogue listens for: yes / no, cancel, corrections, regions, person types, years, choices.

Pure functions of the text; no state. People answer a confirmation as they would a friend — 好的, 嗯, 行, ok,
对, 是的, 👌 — so every confirmation accepts the whole affirm vocabulary below, and the same for "no".
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence

from backend.intents.entities import to_halfwidth

_PARTICLES = re.compile(r"[\s,.!?;:~，。！？、；：…～\"'“”‘’()（）]+")


def plain(text: str) -> str:
    """Half-width, lower case, without spaces and punctuation: what short answers are compared on."""
    return _PARTICLES.sub("", to_halfwidth(text)).lower()


# --- yes / no ----------------------------------------------------------------------------------------------------

_AFFIRM_WORDS = (
    "同意并确认授权|同意授权|确认授权|确认解除|确认办理|确定解除|确认|确定|同意|是的|是啊|是滴|是|对的|对啊|对呀|对头|对|"
    "没错|没问题|好的|好滴|好啊|好呀|好吧|好嘞|好咧|好|行的|行啊|行吧|行|可以的|可以啊|可以|嗯嗯|嗯呢|嗯|恩恩|恩|"
    "ok|okay|okk|yes|yeah|yep|y|中|成|妥|要的|要|就这样|办吧|办理吧|授权吧|解除吧|继续|👌|👍|收到"
)
_NEGATE_WORDS = (
    "不同意|不确认|不确定|不授权|不解除|不办了|不办|不要了|不要|不用了|不用|不是的|不是|不对|不行|不好|不可以|不了|"
    "先别|别了|别|否|拒绝|取消|no|nope|n|不"
)
_SOFTENERS = r"(?:的|了|啊|呀|吧|呢|哈|哦|喔|嘛|啦|谢谢|谢了|麻烦了|请|那就|就)*"
_AFFIRM = re.compile(rf"{_SOFTENERS}(?:(?:{_AFFIRM_WORDS}){_SOFTENERS})+")
_NEGATE = re.compile(rf"{_SOFTENERS}(?:(?:{_NEGATE_WORDS}){_SOFTENERS})+")


def yes_or_no(text: str) -> bool | None:
    """True for a whole-message yes (好的 / 嗯嗯 / ok 确认), False for a no (不同意 / 算了), None otherwise."""
    words = plain(text)
    if not words:
        return None
    if _NEGATE.fullmatch(words) or is_cancel(text):
        return False
    if _AFFIRM.fullmatch(words):
        return True
    return None


def is_affirmation(text: str) -> bool:
    return yes_or_no(text) is True


# --- cancel ------------------------------------------------------------------------------------------------------

_CANCEL = re.compile(r"算了|不办了|不弄了|不要了|不用了|不想办了|先不办|不想弄了|退出办理|不授权了|不估算了|不算了")
_CANCEL_WHOLE = re.compile(r"(?:取消|退出|停止|结束)(?:办理|操作|吧|了|啊|呀)?")


def is_cancel(text: str) -> bool:
    """算了 / 不办了 anywhere; 取消 only as the whole message (取消授权 is a request, not a cancel)."""
    words = _PARTICLES.sub("", to_halfwidth(text))
    return bool(_CANCEL.search(words) or _CANCEL_WHOLE.fullmatch(words))


# --- corrections -------------------------------------------------------------------------------------------------

_CORRECTION = re.compile(r"^(?:不对|不是|错了|搞错|说错|写错|输错|打错|弄错|改一下|改成|改为|更正|应该是|重新)|"
                         r"(?:错了|不对|写错了|输错了|打错了|搞错了|弄错了|要改|改一下)$|"
                         r"(?:关系|名字|姓名|身份证号?|号码|证件号|金额|医院)(?:错了|不对|写错|输错|打错|弄错|搞错|填错)")
_SLOT_WORDS = {
    "relation": re.compile(r"关系"),
    "name": re.compile(r"名字|姓名|名|叫"),
    "id_number": re.compile(r"身份证|证件号|号码|证号"),
    "amount": re.compile(r"金额|钱数|多少钱|费用"),
    "hospital_level": re.compile(r"医院|等级|级别"),
}


def is_correction(text: str) -> bool:
    return bool(_CORRECTION.search(plain(text)))


def corrected_slot(text: str) -> str | None:
    """Which slot a correction names: 名字错了 → name, 身份证号输错了 → id_number; None if it names none."""
    words = plain(text)
    for slot, pattern in _SLOT_WORDS.items():
        if pattern.search(words):
            return slot
    return None


# --- choices -----------------------------------------------------------------------------------------------------

_ORDINAL = re.compile(r"(?:第)?(?P<n>[1-9]|[一二三四五六七八九])(?:个|项|条|种)?")
_CN_ORDINALS = "一二三四五六七八九"


def pick(text: str, options: Sequence[tuple[str, str]]) -> str | None:
    """Which option a reply chose: its value or label sent back, its number (1 / 第一个), or its label inside."""
    words = plain(text)
    if not words:
        return None
    for value, label in options:
        if words in (value.lower(), plain(label)):
            return value
    ordinal = _ORDINAL.fullmatch(words)
    if ordinal:
        n = ordinal["n"]
        index = int(n) if n.isdigit() else _CN_ORDINALS.index(n) + 1
        return options[index - 1][0] if index <= len(options) else None
    inside = [value for value, label in options if plain(label) in words]
    return inside[0] if len(inside) == 1 else None


# --- regions, person types, years --------------------------------------------------------------------------------

_REGIONS = (
    ("nx", re.compile(r"宁夏|银川|石嘴山|吴忠|固原|中卫|寧夏")),
    ("nm", re.compile(r"内蒙古|内蒙|呼和浩特|呼市|包头|鄂尔多斯|赤峰|通辽|乌海|乌兰察布|巴彦淖尔|呼伦贝尔|兴安盟|锡林郭勒|阿拉善|內蒙")),
)


def region_in(text: str) -> str | None:
    found = {region for region, pattern in _REGIONS if pattern.search(text)}
    return found.pop() if len(found) == 1 else None


_PERSON_TYPES = (
    ("retired", re.compile(r"退休|离休|老年人|养老")),
    ("flexible", re.compile(r"灵活就业|个体|自由职业|灵活")),
    ("employed", re.compile(r"在职|上班的|职工|在岗|单位的")),
)


def person_type_in(text: str) -> str | None:
    return next((kind for kind, pattern in _PERSON_TYPES if pattern.search(text)), None)


_YEAR = re.compile(r"(?P<year>20\d\d)\s*年|(?P<word>今年|去年|前年|上一年|上年)")
_YEAR_OFFSETS = {"今年": 0, "去年": 1, "上一年": 1, "上年": 1, "前年": 2}


def year_in(text: str, today: dt.date) -> int | None:
    found = _YEAR.search(text)
    if found is None:
        return None
    if found["year"]:
        return int(found["year"])
    return today.year - _YEAR_OFFSETS[found["word"]]
