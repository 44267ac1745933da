import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum.cn import ric

from backend.intents.entities import Entity, extract, parse_number

TODAY = dt.date(2024, 6, 15)


def valid_id(first_17: str) -> str:
    # calc_check_digit expects the full 18 characters and ignores the last one.
    return first_17 + ric.calc_check_digit(first_17 + "0")


NX_ID = valid_id("64010419580315001")  # 银川兴庆区, born 1958-03-15
NM_ID = valid_id("15010219900101002")  # 呼和浩特, born 1990-01-01
X_ID = next(valid_id(f"1501021985112233{n}") for n in range(10) if valid_id(f"1501021985112233{n}").endswith("X"))


def of_type(text: str, kind: str, today: dt.date | None = TODAY) -> list[Entity]:
    return [entity for entity in extract(text, today) if entity.type == kind]


def values(text: str, kind: str, today: dt.date | None = TODAY) -> list[str]:
    return [entity.value for entity in of_type(text, kind, today)]


# --- id_number -----------------------------------------------------------------------------------------------


def test_a_checksum_valid_id_number_is_found_with_its_offsets():
    text = f"给我妈开通共济 身份证{NX_ID}"
    (entity,) = of_type(text, "id_number")
    assert entity.value == NX_ID
    assert text[entity.start : entity.end] == NX_ID == entity.text


def test_a_lower_case_x_check_digit_is_normalised_to_upper_case():
    (entity,) = of_type(f"身份证号{X_ID.lower()}谢谢", "id_number")
    assert entity.value == X_ID
    assert entity.text == X_ID.lower()


@pytest.mark.parametrize("wrong_digit", ["0", "1", "5"])
def test_an_id_number_with_a_wrong_check_digit_is_ignored(wrong_digit):
    number = NM_ID[:-1] + wrong_digit
    if number == NM_ID:
        pytest.skip("that digit happens to be the right one")
    assert of_type(f"身份证{number}", "id_number") == []


def test_an_id_number_inside_a_longer_digit_run_is_not_an_id_number():
    assert of_type(f"单号{NX_ID}7", "id_number") == []
    assert of_type(f"单号9{NX_ID}", "id_number") == []


def test_full_width_digits_are_read_and_offsets_still_point_into_the_original():
    full_width = NX_ID.translate({ord(d): ord(d) + 0xFEE0 for d in "0123456789"})
    text = f"身份证：{full_width}"
    (entity,) = of_type(text, "id_number")
    assert entity.value == NX_ID
    assert text[entity.start : entity.end] == full_width


# --- amount --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "yuan", "surface"),
    [
        ("花了3000能报多少", "3000.00", "3000"),
        ("花了3000元", "3000.00", "3000元"),
        ("3000块能报多少", "3000.00", "3000块"),
        ("看病花了三千块", "3000.00", "三千块"),
        ("花了两千五", "2500.00", "两千五"),
        ("一共1.2万", "12000.00", "1.2万"),
        ("住院花了一万二", "12000.00", "一万二"),
        ("拿药五百", "500.00", "五百"),
        ("八百五十元能报吗", "850.00", "八百五十元"),
        ("检查花了3k", "3000.00", "3k"),
        ("三千五百块钱", "3500.00", "三千五百块钱"),
        ("一千零五十", "1050.00", "一千零五十"),
        ("十二万", "120000.00", "十二万"),
        ("1万2", "12000.00", "1万2"),
        ("¥1500", "1500.00", "¥1500"),
        ("药费12.5元", "12.50", "12.5元"),
        ("三块五", "3.50", "三块五"),
        ("花了两千多", "2000.00", "两千多"),
        ("２０００元", "2000.00", "２０００元"),
    ],
)
def test_amounts_in_every_form_people_type_become_yuan_with_two_decimals(text, yuan, surface):
    (entity,) = of_type(text, "amount")
    assert (entity.value, entity.text) == (yuan, surface)
    assert text[entity.start : entity.end] == surface


@pytest.mark.parametrize(
    "text",
    [
        "我想问一下",  # 一下
        "三甲医院报多少",  # a hospital level
        "二级医院看了两次",  # visits
        "报销比例百分之六十",  # a percentage
        "能报60%吗",
        "千万别忘了带发票",  # 千万 = by all means
        "我1990年出生",  # a year
        "第2次去医院",
        "我今年六十五岁",
        "电话13812345678",  # a phone number
        "买了3盒药",
    ],
)
def test_numbers_that_are_not_money_are_not_amounts(text):
    assert of_type(text, "amount") == []


def test_an_amount_next_to_a_date_is_read_separately():
    text = "2024年3月5日花了800元"
    assert values(text, "date") == ["2024-03-05"]
    assert values(text, "amount") == ["800.00"]


@pytest.mark.parametrize(
    ("numeral", "value"),
    [("三千", 3000), ("两千五", 2500), ("一万二", 12000), ("三百五", 350), ("一千零五", 1005), ("二十五", 25),
     ("十", 10), ("一百一十", 110), ("1.2万", 12000), ("3.5万", 35000)],
)  # fmt: skip
def test_chinese_numerals_follow_the_spoken_shortening(numeral, value):
    assert parse_number(numeral) == value


@given(st.integers(min_value=1, max_value=99_999_999))
def test_plain_arabic_numbers_parse_to_themselves(number):
    assert parse_number(str(number)) == number


# --- relation ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("给我老婆开通共济", [("老婆", "spouse")]),
        ("给媳妇授权", [("媳妇", "spouse")]),
        ("我爱人想用我的卡", [("爱人", "spouse")]),
        ("我老公", [("老公", "spouse")]),
        ("我妈能用吗", [("我妈", "mother")]),
        ("给我爸开", [("爸", "father")]),
        ("父亲去世了", [("父亲", "father")]),
        ("给老丈人开个共济", [("老丈人", "father_in_law")]),
        ("岳父", [("岳父", "father_in_law")]),
        ("我老公公也要", [("老公公", "father_in_law")]),
        ("婆婆和丈母娘", [("婆婆", "mother_in_law"), ("丈母娘", "mother_in_law")]),
        ("我儿子和闺女", [("儿子", "son"), ("闺女", "daughter")]),
        ("我哥和妹妹", [("我哥", "sibling"), ("妹妹", "sibling")]),
        ("姥姥和外公", [("姥姥", "grandparent"), ("外公", "grandparent")]),
        ("孙子和外孙女", [("孙子", "grandchild"), ("外孙女", "grandchild")]),
        ("给我爸妈开", [("爸", "father"), ("妈", "mother")]),
        ("孩子他爸", [("孩子他爸", "spouse")]),
    ],
)
def test_relations_are_read_to_their_canonical_names(text, expected):
    found = of_type(text, "relation")
    assert [(entity.text, entity.value) for entity in found] == expected
    assert all(text[entity.start : entity.end] == entity.text for entity in found)


@pytest.mark.parametrize("text", ["我儿媳妇", "那个小姐说的", "我姐夫", "隔壁大妈"])
def test_words_that_only_contain_a_relation_word_are_not_relations(text):
    assert of_type(text, "relation") == []


# --- hospital_level ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "level"),
    [
        ("在三甲医院看的", "tertiary"),
        ("三级医院报多少", "tertiary"),
        ("三级", "tertiary"),
        ("二甲", "secondary"),
        ("二级医院", "secondary"),
        ("二级及以下", "secondary"),
        ("一级医院", "primary"),
        ("社区医院", "primary"),
        ("去社区看的", "primary"),
        ("乡镇卫生院", "primary"),
        ("小诊所", "primary"),
    ],
)
def test_hospital_levels(text, level):
    assert values(text, "hospital_level") == [level]


# --- person_name ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("我妈叫李秀英", "李秀英"),
        ("她叫王芳身份证号是多少来着", "王芳"),
        ("我爸叫张建国想开通共济", "张建国"),
        ("名字是巴特尔", "巴特尔"),  # a Mongolian name has no surname; the explicit cue is enough
        ("姓名：马小兰", "马小兰"),
        ("他叫欧阳明", "欧阳明"),
    ],
)
def test_names_after_a_cue_are_found(text, name):
    assert values(text, "person_name") == [name]


@pytest.mark.parametrize("text", ["你叫什么名字", "怎么叫人工", "提供姓名身份证号", "叫我吗"])
def test_a_cue_without_a_name_after_it_finds_nothing(text):
    assert of_type(text, "person_name") == []


# --- date ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "iso"),
    [
        ("2024年3月5日看的病", "2024-03-05"),
        ("2023年12月31号", "2023-12-31"),
        ("2024-03-05", "2024-03-05"),
        ("2024/3/5", "2024-03-05"),
        ("3月5号在医院", "2024-03-05"),  # already past on 15 June: this year
        ("三月五日", "2024-03-05"),
        ("12月5号买的药", "2023-12-05"),  # not yet reached this year: the visit was last December
        ("今天", "2024-06-15"),
        ("昨天花的钱", "2024-06-14"),
        ("前天", "2024-06-13"),
    ],
)
def test_dates_resolve_against_the_reference_date(text, iso):
    assert values(text, "date") == [iso]


def test_without_a_reference_date_only_full_dates_are_read():
    assert values("昨天和3月5号，还有2024年1月2日", "date", today=None) == ["2024-01-02"]


def test_an_impossible_date_is_not_a_date():
    assert values("2023年2月30日", "date") == []


# --- the whole message ---------------------------------------------------------------------------------------


def test_a_full_request_yields_each_entity_once_in_text_order():
    text = f"给我老婆开通共济，她叫王芳，身份证{NX_ID}，昨天在三甲医院花了三千块"
    found = extract(text, TODAY)
    assert [(e.type, e.value) for e in found] == [
        ("relation", "spouse"),
        ("person_name", "王芳"),
        ("id_number", NX_ID),
        ("date", "2024-06-14"),
        ("hospital_level", "tertiary"),
        ("amount", "3000.00"),
    ]


def test_entities_serialise_to_the_api_shape():
    (entity,) = extract("三千块")
    assert entity.as_dict() == {"type": "amount", "value": "3000.00", "text": "三千块", "start": 0, "end": 3}


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("0123456789xX一二两三千万百十元块年月日号叫王我妈老公婆甲级社区 ，.")), max_size=40))
def test_any_text_yields_non_overlapping_entities_whose_offsets_match_their_text(text):
    found = extract(text, TODAY)
    for entity in found:
        assert text[entity.start : entity.end] == entity.text
    for earlier, later in zip(found, found[1:]):
        assert earlier.end <= later.start
