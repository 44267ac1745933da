"""The settlement statement PDF, read back with poppler's tools (scripts/install-fonts.sh installs them)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backend.domain.identity import mask_id_number, validate_id_number
from backend.reports import (
    InvalidStatement,
    StatementData,
    StatementFontNotFound,
    StatementLine,
    StatementRefund,
    find_statement_font,
    render_statement,
)

FULL_ID = validate_id_number("640104195803150014")
MASKED_ID = mask_id_number(FULL_ID)  # 640104********0014

# Three items: two inside the catalogue, one outside it.
CONSULTATION = 1_000  # 10.00
MEDICINE = 159_000  # 1590.00
SELF_PAID = 10_000  # 100.00
MEDFEE = CONSULTATION + MEDICINE + SELF_PAID  # 1700.00
IN_SCOPE = CONSULTATION + MEDICINE  # 1600.00
HIFP = 120_000  # 1200.00 paid by the pooling fund
ACCT = 30_000  # 300.00 from the person's own account
MULAID = 5_000  # 50.00 from a relative's account (家庭共济)
CASH = MEDFEE - HIFP - ACCT - MULAID  # 150.00, the rest
BALANCE_AFTER = 88_800  # 888.00


def statement(**overrides) -> StatementData:
    values = dict(
        title="门诊费用结算清单",
        setl_id="NX202403150001",
        person_name="马秀兰",
        masked_id_number=MASKED_ID,
        region_label="宁夏回族自治区银川市",
        person_type_label="在职职工",
        institution_name="宁夏医科大学总医院",
        institution_level_label="三级",
        visit_date=dt.date(2024, 3, 15),
        settled_at=dt.datetime(2024, 3, 15, 2, 30, 5, tzinfo=dt.timezone.utc),  # 10:30:05 in Beijing (UTC+8)
        med_type_label="普通门诊",
        lines=(
            StatementLine("001102000010000", "一般诊疗费", CONSULTATION, True),
            StatementLine("XJ01CAA040E001010100000", "阿莫西林胶囊（0.25g×24粒）", MEDICINE, True),
            StatementLine("ZF000000001", "营养补充剂", SELF_PAID, False),
        ),
        medfee_sumamt=MEDFEE,
        inscp_scp_amt=IN_SCOPE,
        act_pay_dedc=0,
        hifp_pay=HIFP,
        acct_pay=ACCT,
        acct_mulaid_pay=MULAID,
        psn_cash_pay=CASH,
        balc=BALANCE_AFTER,
        refunds=(StatementRefund(dt.datetime(2024, 3, 16, 9, 0), 0, 0, 0, 2_500),),
        explanation=(
            "符合范围金额1600.00元，统筹基金支付1200.00元。",
            f"经办人核验身份证{FULL_ID}后办理。",  # a careless caller: the number must still not be printed
        ),
        issuer="银川市医疗保障事务中心",
        generated_at=dt.datetime(2024, 3, 20, 8, 0),
    )
    values.update(overrides)
    return StatementData(**values)


def many_lines(count: int) -> tuple[StatementLine, ...]:
    """Every fifth item has a name too long for one line of its column."""
    long_name = "一般诊疗费（含挂号费、诊查费、注射费、药事服务成本）及与之相关的其他门诊服务项目"
    return tuple(
        StatementLine(f"XM{number:06d}", long_name if number % 5 == 0 else "甲硝唑片", 1_000 + number, True)
        for number in range(1, count + 1)
    )


def poppler(tool: str, *args: str) -> str:
    assert shutil.which(tool), f"{tool} missing: run scripts/install-fonts.sh (Debian package poppler-utils)"
    return subprocess.run([tool, *args], check=True, capture_output=True, text=True).stdout


def text_pages(pdf_file: Path) -> list[str]:
    """The text of each page as pdftotext reads it (pages are separated by form feeds)."""
    return poppler("pdftotext", "-layout", str(pdf_file), "-").split("\f")[:-1]


def squeezed(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.fixture(scope="module")
def short_pdf(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("statement") / "short.pdf"
    path.write_bytes(render_statement(statement()))
    return path


@pytest.fixture(scope="module")
def long_pdf(tmp_path_factory) -> Path:
    lines = many_lines(200)
    total = sum(line.amount for line in lines)
    data = statement(lines=lines, medfee_sumamt=total, inscp_scp_amt=total, hifp_pay=total, acct_pay=0,
                     acct_mulaid_pay=0, psn_cash_pay=0, refunds=())
    path = tmp_path_factory.mktemp("statement") / "long.pdf"
    path.write_bytes(render_statement(data))
    return path


def test_the_text_read_back_from_the_pdf_has_every_total_beside_its_chinese_label(short_pdf):
    text = "\n".join(text_pages(short_pdf))
    for label, yuan in (
        ("医疗费总额", "1700.00"),
        ("符合范围金额", "1600.00"),
        ("本次起付线", "0.00"),
        ("统筹基金支付", "1200.00"),
        ("个人账户支付", "300.00"),
        ("共济账户支付", "50.00"),
        ("个人现金支付", "150.00"),
        ("账户余额", "888.00"),
    ):
        assert re.search(rf"{label}\s+{re.escape(yuan)}(\s|$)", text), label


def test_the_text_read_back_has_the_person_the_visit_the_items_and_the_explanation(short_pdf):
    text = "\n".join(text_pages(short_pdf))
    for expected in ("门诊费用结算清单", "马秀兰", MASKED_ID, "宁夏医科大学总医院", "三级", "普通门诊",
                     "2024-03-15", "NX202403150001", "阿莫西林胶囊", "营养补充剂", "范围外",
                     "1590.00", "银川市医疗保障事务中心"):
        assert expected in text, expected
    assert "符合范围金额1600.00元，统筹基金支付1200.00元。" in squeezed(text)


def test_times_are_printed_in_beijing_time_and_naive_ones_as_given(short_pdf):
    text = "\n".join(text_pages(short_pdf))
    assert re.search(r"结算时间\s+2024-03-15 10:30:05", text)  # settled at 02:30:05 UTC
    assert "打印时间：2024-03-20 08:00:00" in text


def test_a_refund_is_listed_by_channel_with_its_date(short_pdf):
    text = "\n".join(text_pages(short_pdf))
    refund_row = next(line for line in text.splitlines() if "2024-03-16 09:00:00" in line)
    assert refund_row.split()[-2:] == ["25.00", "25.00"]  # cash channel, and the refund's total


def test_the_cjk_font_is_embedded_as_a_truetype_subset(short_pdf):
    fonts = poppler("pdffonts", str(short_pdf)).splitlines()[2:]
    assert fonts, "the statement uses no font"
    for row in fonts:
        # columns: name, type (two words), encoding, emb, sub, uni, object id
        name, *_ = row.split()
        assert re.match(r"[A-Z]{6}\+", name), f"not a subset: {row}"
        assert "CID TrueType" in row and row.split()[-5:-2] == ["yes", "yes", "yes"], row
    assert b"/FontFile2" in short_pdf.read_bytes()


def test_the_subset_keeps_a_short_statement_small(short_pdf):
    # The font file is 5 MB; a subset of the few hundred glyphs used is a small fraction of that.
    assert short_pdf.stat().st_size < 100_000


def test_the_full_id_number_never_reaches_the_page_even_inside_free_text(short_pdf):
    text = "\n".join(text_pages(short_pdf))
    assert FULL_ID not in squeezed(text)
    assert f"身份证{MASKED_ID}" in squeezed(text)


@settings(max_examples=50, deadline=None)
@given(st.from_regex(r"[1-9][0-9]{16}[0-9X]", fullmatch=True))
def test_statement_data_refuses_an_unmasked_id_number_and_accepts_its_masked_form(number):
    with pytest.raises(InvalidStatement) as refused:
        statement(masked_id_number=number)
    assert refused.value.reason == "unmasked_id_number"
    assert statement(masked_id_number=mask_id_number(number)).masked_id_number == mask_id_number(number)


def test_a_200_line_statement_flows_over_several_numbered_pages_repeating_the_headers(long_pdf):
    pages = text_pages(long_pdf)
    assert len(pages) >= 3
    for number, page in enumerate(pages, start=1):
        flat = squeezed(page)
        assert "门诊费用结算清单" in flat and "NX202403150001" in flat  # running header
        assert f"第{number}页/共{len(pages)}页" in flat
    pages_with_items = [page for page in pages if re.search(r"XM\d{6}", page)]
    assert len(pages_with_items) >= 3
    assert all("项目名称" in page and "医保范围" in page for page in pages_with_items)
    codes = re.findall(r"XM\d{6}", "\n".join(pages))
    assert codes == [f"XM{number:06d}" for number in range(1, 201)]  # each item once, in order


def test_a_long_item_name_wraps_inside_its_cell_instead_of_being_cut(long_pdf):
    long_name = many_lines(5)[-1].name
    # -raw keeps the content-stream order: a wrapped cell's lines follow each other.
    lines = poppler("pdftotext", "-raw", "-f", "1", "-l", "1", str(long_pdf), "-").splitlines()
    first = next(index for index, line in enumerate(lines) if line and long_name.startswith(line))
    assert lines[first] != long_name  # it did not fit on one line...
    assert lines[first] + lines[first + 1] == long_name  # ...and went on, whole, on the next


def test_the_same_data_renders_the_same_bytes(short_pdf):
    assert render_statement(statement()) == short_pdf.read_bytes()


def test_a_missing_font_path_raises_a_named_error_saying_how_to_install_one(tmp_path):
    missing = tmp_path / "no-such-font.ttc"
    with pytest.raises(StatementFontNotFound) as error:
        render_statement(statement(), font_path=missing)
    assert error.value.tried == (missing,)
    assert "fonts-wqy-microhei" in str(error.value)


def test_without_a_font_path_the_installed_font_is_found():
    assert find_statement_font().is_file()


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"medfee_sumamt": MEDFEE + 1}, "lines_do_not_add_up"),
        ({"inscp_scp_amt": IN_SCOPE - 1}, "lines_do_not_add_up"),
        ({"psn_cash_pay": CASH + 1}, "payments_do_not_add_up"),
        ({"refunds": (StatementRefund(dt.datetime(2024, 3, 16), 0, 0, MULAID + 1, 0),)}, "refund_exceeds_payment"),
        ({"balc": -1}, "invalid_amount"),
        ({"hifp_pay": True}, "invalid_amount"),
        ({"lines": ()}, "no_lines"),
    ],
)
def test_statement_data_refuses_numbers_that_do_not_add_up(overrides, reason):
    with pytest.raises(InvalidStatement) as refused:
        statement(**overrides)
    assert refused.value.reason == reason


def test_statement_data_is_frozen_and_keeps_its_lines_as_a_tuple():
    data = statement(lines=list(statement().lines))
    assert isinstance(data.lines, tuple)
    with pytest.raises(dataclasses.FrozenInstanceError):
        data.hifp_pay = 0  # type: ignore[misc]
