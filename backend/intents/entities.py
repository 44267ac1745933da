"""Entities in a chat message: relation, id_number, amount, hospital_level, person_name, date (DESIGN §4.7).

Pure functions: nothing here reads the clock; relative dates (今天, 3月5号) are resolved only against the ``today``
the caller passes in. Chinese has no word boundaries, so every pattern uses lookarounds, never ``\\b``.
Offsets are character offsets into the text exactly as given.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import asdict, dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from backend.domain.identity import ID_NUMBER_IN_TEXT, InvalidIdNumber, validate_id_number
from backend.domain.money import fen_to_yuan, yuan_to_fen


@dataclass(frozen=True)
class Entity:
    type: str
    value: str
    text: str
    start: int
    end: int

    def as_dict(self) -> dict:
        return asdict(self)


def extract(text: str, today: dt.date | None = None) -> list[Entity]:
    """All entities in ``text``, ordered by position, never overlapping (earlier finders win a dispute)."""
    plain = to_halfwidth(text)
    found: list[Entity] = []
    for finder in _FINDERS:
        for entity in finder(plain, today):
            if not any(entity.start < kept.end and kept.start < entity.end for kept in found):
                found.append(entity)
    found.sort(key=lambda entity: entity.start)
    return [_with_original_text(entity, text) for entity in found]


# Full-width digits and letters (３０００元, ６４０１…) are common from phone keyboards; mapping them one
# character to one character keeps every offset valid for the original text.
_HALFWIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}


def to_halfwidth(text: str) -> str:
    return text.translate(_HALFWIDTH)


def _with_original_text(entity: Entity, text: str) -> Entity:
    return Entity(entity.type, entity.value, text[entity.start : entity.end], entity.start, entity.end)


# --- id_number ---------------------------------------------------------------------------------------------


def _find_id_numbers(text: str, today: dt.date | None) -> list[Entity]:
    entities = []
    for match in ID_NUMBER_IN_TEXT.finditer(text):
        try:
            number = validate_id_number(match.group(0), today)
        except InvalidIdNumber:
            continue  # a mistyped number is not an entity: the dialogue asks for it again
        entities.append(Entity("id_number", number, match.group(0), match.start(), match.end()))
    return entities


# --- date ----------------------------------------------------------------------------------------------------

_CN_SMALL = "一二两三四五六七八九十"
_FULL_DATE = re.compile(
    r"(?<!\d)(?P<y>\d{4})\s*[年\-/.]\s*(?P<m>\d{1,2})\s*[月\-/.]\s*(?P<d>\d{1,2})\s*[日号]?(?!\d)"
)
_MONTH_DAY = re.compile(
    rf"(?<![\d年{_CN_SMALL}])(?P<m>\d{{1,2}}|[{_CN_SMALL}]{{1,3}})\s*月\s*(?P<d>\d{{1,2}}|[{_CN_SMALL}]{{1,3}})\s*[日号]"
)
_RELATIVE_DAYS = {"大前天": -3, "前天": -2, "昨天": -1, "昨日": -1, "今天": 0, "今日": 0}
_RELATIVE_DAY = re.compile("|".join(sorted(_RELATIVE_DAYS, key=len, reverse=True)))


def _find_dates(text: str, today: dt.date | None) -> list[Entity]:
    entities = []
    for match in _FULL_DATE.finditer(text):
        day = _safe_date(int(match["y"]), int(match["m"]), int(match["d"]))
        if day:
            entities.append(Entity("date", day.isoformat(), match.group(0), match.start(), match.end()))
    if today is None:
        return entities
    for match in _MONTH_DAY.finditer(text):
        day = _recent_month_day(_small_number(match["m"]), _small_number(match["d"]), today)
        if day:
            entities.append(Entity("date", day.isoformat(), match.group(0), match.start(), match.end()))
    for match in _RELATIVE_DAY.finditer(text):
        day = today + dt.timedelta(days=_RELATIVE_DAYS[match.group(0)])
        entities.append(Entity("date", day.isoformat(), match.group(0), match.start(), match.end()))
    return entities


def _recent_month_day(month: int | None, day: int | None, today: dt.date) -> dt.date | None:
    """A date without a year is the latest such day not after today: people ask about visits already made."""
    if month is None or day is None:
        return None
    this_year = _safe_date(today.year, month, day)
    if this_year and this_year <= today:
        return this_year
    return _safe_date(today.year - 1, month, day)


def _safe_date(year: int, month: int, day: int) -> dt.date | None:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def _small_number(token: str) -> int | None:
    if token.isdigit():
        return int(token)
    value = parse_number(token)
    return int(value) if value is not None and value == int(value) else None


# --- amount --------------------------------------------------------------------------------------------------

_CN_DIGITS = {
    "零": 0, "〇": 0, "一": 1, "壹": 1, "二": 2, "贰": 2, "两": 2, "三": 3, "叁": 3, "四": 4, "肆": 4,
    "五": 5, "伍": 5, "六": 6, "陆": 6, "七": 7, "柒": 7, "八": 8, "捌": 8, "九": 9, "玖": 9,
}  # fmt: skip
_CN_SMALL_UNITS = {"十": 10, "拾": 10, "百": 100, "佰": 100, "千": 1000, "仟": 1000}
_TEN_THOUSAND = "万萬"
_CN_NUMBER_CHARS = "".join(_CN_DIGITS) + "".join(_CN_SMALL_UNITS) + _TEN_THOUSAND
_SUFFIX_MULTIPLIERS = {"k": 1000, "K": 1000, "w": 10000, "W": 10000}  # 3k, 1.5w as typed in chats
_AMOUNT = re.compile(
    rf"(?<![0-9A-Za-z.])(?P<yen>[¥￥])?(?P<num>(?:\d+(?:\.\d+)?|[{_CN_NUMBER_CHARS}])+)(?P<mult>[kKwW](?![A-Za-z]))?"
    r"(?P<approx>多|余)?(?P<unit>块钱|元钱|人民币|块|元|圆)?"
    r"(?:(?<=[块元])(?P<jiao>[0-9一二两三四五六七八九])(?:毛|角)?(?![0-9月日号年天次个]))?"
)
# A number followed by one of these counts something else (years, visits, levels, boxes of pills, percent...).
_NOT_MONEY_AFTER = tuple(
    "年 月 日 号 岁 个 次 天 周 % 级 甲 乙 人 家 种 项 盒 片 粒 张 支 瓶 袋 小时 分 点 楼 层 位 代 期 批 条 页 倍 成 折 "
    "公里 里 斤 克 毫 米 度 遍 份 口 辈 趟 回 秒 下 起 样 只 台 步 型 名 床 科 所 病".split()
)
_NOT_MONEY_BEFORE = ("第", "星期", "礼拜", "周", "初", "之", "百分")


def _find_amounts(text: str, today: dt.date | None) -> list[Entity]:
    entities = []
    for match in _AMOUNT.finditer(text):
        value = _amount_value(match, text)
        if value is None:
            continue
        entities.append(Entity("amount", _format_yuan(value), match.group(0), match.start(), match.end()))
    return entities


def _amount_value(match: re.Match, text: str) -> Decimal | None:
    number = match["num"]
    has_money_word = bool(match["unit"] or match["yen"] or match["mult"])
    if not has_money_word and (
        text[: match.start()].endswith(_NOT_MONEY_BEFORE) or text[match.end() :].startswith(_NOT_MONEY_AFTER)
    ):
        return None
    value = parse_number(number)
    if value is None or value <= 0:
        return None
    has_magnitude = any(ch in _CN_SMALL_UNITS or ch in _TEN_THOUSAND for ch in number)
    is_arabic = all(ch.isdigit() or ch == "." for ch in number)
    if not (has_money_word or has_magnitude or (is_arabic and _looks_like_bare_amount(number))):
        return None  # 一下, 三甲, 两个: Chinese digits without a unit are not money
    if match["mult"]:
        value *= _SUFFIX_MULTIPLIERS[match["mult"]]
    if match["jiao"]:
        value += Decimal(_small_number(match["jiao"]) or 0) / 10
    return value


def _looks_like_bare_amount(number: str) -> bool:
    """花了3000 is money; a lone digit, or a phone number, is not."""
    whole = number.split(".")[0]
    return 2 <= len(whole) <= 8 or ("." in number and len(whole) >= 1)


def _format_yuan(value: Decimal) -> str:
    return fen_to_yuan(yuan_to_fen(value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)))


def parse_number(token: str) -> Decimal | None:
    """Chinese, Arabic or mixed numerals: 三千 3000, 两千五 2500, 一万二 12000, 1.2万 12000, 八百五十 850.

    The colloquial shortening (两千五 = 2500, not 2005) applies when a single trailing digit follows a unit
    with nothing lower written; 零 cancels it (一千零五 = 1005).
    """
    total = Decimal(0)  # completed 万 groups
    group = Decimal(0)  # the current group below 万
    pending: Decimal | None = None
    last_unit = 0
    zero_seen = False
    position = 0
    while position < len(token):
        char = token[position]
        if char.isdigit() or char == ".":
            end = position
            while end < len(token) and (token[end].isdigit() or token[end] == "."):
                end += 1
            if pending is not None:
                return None
            try:
                pending = Decimal(token[position:end])
            except InvalidOperation:
                return None
            position = end
            continue
        if char in _CN_DIGITS:
            if pending is not None:
                return None  # 一二: a list of digits, not a number
            if _CN_DIGITS[char] == 0:
                zero_seen = True
            else:
                pending = Decimal(_CN_DIGITS[char])
        elif char in _CN_SMALL_UNITS:
            if pending is None:
                if char not in "十拾" or group or total:
                    return None  # 百分之, 千万别: a unit without a digit before it
                pending = Decimal(1)  # 十二 = 12
            last_unit = _CN_SMALL_UNITS[char]
            group += pending * last_unit
            pending, zero_seen = None, False
        else:  # 万
            if pending is None and not group:
                return None
            total += (group + (pending or 0)) * 10000
            group, pending, last_unit, zero_seen = Decimal(0), None, 10000, False
        position += 1
    if pending is not None:
        if last_unit and not zero_seen and pending < 10 and pending == int(pending):
            pending *= last_unit // 10
        group += pending
    return total + group


# --- hospital_level ------------------------------------------------------------------------------------------

_LEVEL_WORDS = {
    "tertiary": "三级甲等 三级乙等 三级医院 三甲医院 三乙医院 三甲 三乙 三级 3甲 3级",
    "secondary": "二级甲等 二级乙等 二级医院 二甲医院 二乙医院 二甲 二乙 二级 2甲 2级",
    "primary": "一级医院 一级 1级 社区卫生服务中心 社区卫生服务站 社区医院 社区门诊 社区 乡镇卫生院 卫生院 村卫生室 卫生室 诊所",
}
_LEVEL_OF = {word: level for level, words in _LEVEL_WORDS.items() for word in words.split()}
_LEVEL = re.compile("|".join(sorted(_LEVEL_OF, key=len, reverse=True)))


def _find_hospital_levels(text: str, today: dt.date | None) -> list[Entity]:
    return [
        Entity("hospital_level", _LEVEL_OF[m.group(0)], m.group(0), m.start(), m.end())
        for m in _LEVEL.finditer(text)
    ]


# --- person_name ---------------------------------------------------------------------------------------------

# After an explicit 名字是 / 姓名 anything goes (Mongolian names such as 巴特尔 have no surname); after a bare
# 叫 the first character must be a surname, so 叫人工 and 叫什么 are not names.
_SURNAMES = set(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟"
    "谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤常温康施文牛樊葛邢"
    "安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路"
    "游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全"
    "佟应臧闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝纳海拜冶虎哈妥喇洪乌巴其额那图宝达斯"
)
_COMPOUND_SURNAMES = ("欧阳", "司马", "诸葛", "上官", "东方", "皇甫", "慕容", "尉迟", "公孙", "令狐", "长孙", "宇文")
_NAME = re.compile(r"(?P<cue>名字是|名字叫|名叫|叫做|姓名是|姓名[:：]?|叫)\s*(?P<name>[\u4e00-\u9fff]{2,4})")
_NAME_STOP_CHARS = "的是吗呢啊吧呀和跟与他她我你要给帮在"
_NAME_STOP_WORDS = (
    "身份", "证件", "开通", "授权", "解除", "取消", "绑定", "共济", "今年", "现在", "已经", "医保", "号码", "手机",
    "电话", "女士", "先生", "同志", "想要", "想给", "想帮", "想开", "想办", "想问", "想查", "能不", "可以",
)  # fmt: skip


def _find_person_names(text: str, today: dt.date | None) -> list[Entity]:
    entities = []
    for match in _NAME.finditer(text):
        start = match.start("name")
        length = _name_length(text[start:])
        name = text[start : start + length]
        if length < 2 or (match["cue"] == "叫" and not starts_with_surname(name)):
            continue
        entities.append(Entity("person_name", name, name, start, start + length))
    return entities


def _name_length(rest: str) -> int:
    """Up to four characters, stopping where the sentence obviously goes on (王芳身份证号…, 张三开通…)."""
    length = 0
    while length < 4 and length < len(rest) and "\u4e00" <= rest[length] <= "\u9fff":
        if rest[length] in _NAME_STOP_CHARS or rest[length:].startswith(_NAME_STOP_WORDS):
            break
        length += 1
    return length


def starts_with_surname(name: str) -> bool:
    return name[0] in _SURNAMES or name.startswith(_COMPOUND_SURNAMES)


# --- relation ------------------------------------------------------------------------------------------------

_RELATION_WORDS = {
    "spouse": "老婆 媳妇儿 媳妇 爱人 妻子 丈夫 老公 配偶 太太 夫人 另一半 孩子他爸 孩子他妈 孩子她妈 孩子她爸 孩他爸 孩他妈 老伴儿 老伴 那口子 前妻 前夫 当家的",
    "father": "爸爸 老爸 父亲 老父亲 爸 老爹 爹",
    "mother": "妈妈 老妈 我妈 母亲 老母亲 老娘 妈",
    "father_in_law": "老丈人 丈人 岳父 公公 老公公",
    "mother_in_law": "丈母娘 岳母 婆婆",
    "son": "儿子 儿砸 大儿子 小儿子",
    "daughter": "女儿 闺女 大闺女 小闺女 丫头",
    "sibling": "哥哥 姐姐 弟弟 妹妹 兄弟姐妹 兄弟 姐妹 我哥 我姐 我弟 我妹 亲哥 亲姐 亲弟 亲妹 大哥 二哥 大姐 二姐",
    "grandparent": "爷爷 奶奶 外公 外婆 姥姥 姥爷 祖父 祖母 外祖父 外祖母",
    "grandchild": "孙子 孙女 外孙 外孙女 孙儿",
}
# Words that contain a relation word but name someone outside the canonical set; matching them first keeps
# 儿媳妇 from reading as 媳妇 (spouse) and 小姐 from reading as a sister.
_NOT_RELATIONS = "儿媳妇 儿媳 孙媳妇 侄媳妇 弟媳 姐夫 妹夫 小姐 大妈 大爷 姑妈 姨妈 舅妈 干妈 干爹 后爹"
# Two relatives in one word: 父母 = father + mother (character offsets inside the word).
_RELATION_PAIRS = {
    "父母": ((0, 1, "father"), (1, 2, "mother")),
    "爸妈": ((0, 1, "father"), (1, 2, "mother")),
    "爹妈": ((0, 1, "father"), (1, 2, "mother")),
    "公婆": ((0, 1, "father_in_law"), (1, 2, "mother_in_law")),
    "岳父母": ((0, 2, "father_in_law"), (2, 3, "mother_in_law")),
    "子女": ((0, 1, "son"), (1, 2, "daughter")),
    "儿女": ((0, 1, "son"), (1, 2, "daughter")),
}
_RELATION_PARTS: dict[str, tuple[tuple[int, int, str], ...]] = {
    word: ((0, len(word), relation),) for relation, words in _RELATION_WORDS.items() for word in words.split()
}
_RELATION_PARTS |= {word: () for word in _NOT_RELATIONS.split()} | _RELATION_PAIRS
# Longest first, so 老公公 is a father-in-law rather than 老公 + 公; never right before 夫/媳, so 我姐夫 is
# left to the 姐夫 entry above.
_RELATION = re.compile("(?:" + "|".join(sorted(_RELATION_PARTS, key=len, reverse=True)) + ")(?![夫媳])")


def _find_relations(text: str, today: dt.date | None) -> list[Entity]:
    entities = []
    for match in _RELATION.finditer(text):
        for offset, end, relation in _RELATION_PARTS[match.group(0)]:
            start = match.start() + offset
            entities.append(Entity("relation", relation, text[start : match.start() + end], start, match.start() + end))
    return entities


_FINDERS = (
    _find_id_numbers,
    _find_dates,
    _find_hospital_levels,
    _find_amounts,
    _find_person_names,
    _find_relations,
)
