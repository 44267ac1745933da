"""The settlement statement (结算清单) as an A4 PDF, with an embedded subset of a CJK font.

POLICY §5 (NX §23): after reimbursement the person can view or print the settlement statement. The amounts are
the national platform's 2207 results (DESIGN §2), passed in as integer fen and printed as yuan.

The font is embedded as a subset so that the statement reads the same in every viewer: the non-embedded Adobe
CID fonts (STSong-Light and the like) depend on the reader having them. WenQuanYi Micro Hei (Debian
fonts-wqy-microhei, installed by scripts/install-fonts.sh) is the default: TrueType outlines, which fpdf2 subsets
and embeds as CIDFontType2 (its CFF/CID path, used for Noto Sans CJK, is younger and has known rendering
reports), and the smallest Debian CJK package with no dependencies.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from fpdf import FPDF, FontFace
from fpdf.enums import WrapMode

from backend.domain.identity import redact_id_numbers
from backend.domain.money import fen_to_yuan

# Looked for in this order when no font path is given. All are TrueType-outline CJK fonts from Debian packages;
# collections (.ttc) use their first face, which is the proportional Simplified-Chinese one in each.
FONT_CANDIDATES: tuple[Path, ...] = (
    Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"),  # fonts-wqy-microhei (scripts/install-fonts.sh)
    Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"),  # fonts-wqy-zenhei
    Path("/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf"),  # fonts-droid-fallback
    Path("/usr/share/fonts/truetype/arphic/uming.ttc"),  # fonts-arphic-uming
)
FONT_FAMILY = "statement-cjk"

# Only what a caller's mask_id_number() leaves visible: at most the first 6 and the last 4 characters.
MASKED_ID_PATTERN = re.compile(r"[0-9]{0,6}\*+[0-9Xx]{0,4}")

DATE_FORMAT = "%Y-%m-%d"
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
# People read Beijing time on the page; aware datetimes (e.g. UTC from the database) are converted to it,
# naive ones are taken to be Beijing time already.
DISPLAY_ZONE = ZoneInfo("Asia/Shanghai")

MARGIN_MM = 15
BODY_PT = 9
LINE_MM = 5.5
GREY_FILL = (235, 235, 235)
LABEL_STYLE = FontFace(emphasis="", fill_color=GREY_FILL)


class InvalidStatement(ValueError):
    """Raised with ``reason`` (lower_snake_case) when statement data must not be printed."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"invalid statement: {reason}" + (f" ({detail})" if detail else ""))
        self.reason = reason


class StatementFontNotFound(FileNotFoundError):
    """No CJK font file at the given path, nor at any of FONT_CANDIDATES."""

    def __init__(self, tried: Sequence[Path]):
        paths = ", ".join(str(path) for path in tried)
        super().__init__(
            f"no CJK font for the settlement statement; tried: {paths}. "
            "Install one with scripts/install-fonts.sh (Debian package fonts-wqy-microhei) or pass font_path."
        )
        self.tried = tuple(tried)


def _require_amount(value: object, name: str) -> None:
    # bool is an int in Python, and True fen is never meant.
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidStatement("invalid_amount", f"{name}={value!r}")


@dataclass(frozen=True)
class StatementLine:
    """One fee item as billed: the institution's code and name, amount in fen, inside the catalogue or not."""

    code: str
    name: str
    amount: int
    in_scope: bool
    refunded: bool = False  # sent back by a refund (退费): printed "已退费" on its row

    def __post_init__(self) -> None:
        _require_amount(self.amount, f"line {self.code}")


@dataclass(frozen=True)
class StatementRefund:
    """A refund (退费) sent back along the original channels (NX §28), each amount in fen."""

    refunded_at: dt.datetime
    hifp_pay: int
    acct_pay: int
    acct_mulaid_pay: int
    psn_cash_pay: int
    line_nos: tuple[int, ...] = ()  # the statement's line numbers (1-based) this refund sent back

    def __post_init__(self) -> None:
        for name in ("hifp_pay", "acct_pay", "acct_mulaid_pay", "psn_cash_pay"):
            _require_amount(getattr(self, name), f"refund {name}")

    @property
    def total(self) -> int:
        return self.hifp_pay + self.acct_pay + self.acct_mulaid_pay + self.psn_cash_pay


@dataclass(frozen=True)
class StatementData:
    """Everything printed on one statement; labels are the Chinese texts to print, amounts are fen.

    The caller masks the ID number (backend.domain.identity.mask_id_number); a full number is refused so that
    it can never reach a printed or e-mailed page.
    """

    title: str
    setl_id: str
    person_name: str
    masked_id_number: str
    region_label: str
    person_type_label: str
    institution_name: str
    institution_level_label: str
    visit_date: dt.date
    settled_at: dt.datetime
    med_type_label: str
    lines: tuple[StatementLine, ...]
    medfee_sumamt: int
    inscp_scp_amt: int
    act_pay_dedc: int
    hifp_pay: int
    acct_pay: int
    acct_mulaid_pay: int
    psn_cash_pay: int
    issuer: str
    generated_at: dt.datetime
    balc: int | None = None
    refunds: tuple[StatementRefund, ...] = ()
    explanation: tuple[str, ...] = ()
    sample_label: str | None = None  # printed when a figure was computed from sample parameters

    @property
    def refund_mark(self) -> str | None:
        """已退费 when everything went back, 部分退费 when some lines did, None without refunds."""
        if not self.refunds:
            return None
        return "已退费" if sum(refund.total for refund in self.refunds) == self.medfee_sumamt else "部分退费"

    def net(self, name: str) -> int:
        """An amount after the refunds: what the channel finally paid."""
        return getattr(self, name) - sum(getattr(refund, name) for refund in self.refunds)

    @property
    def net_medfee_sumamt(self) -> int:
        return self.medfee_sumamt - sum(refund.total for refund in self.refunds)

    def __post_init__(self) -> None:
        for name in ("lines", "refunds", "explanation"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        if not MASKED_ID_PATTERN.fullmatch(self.masked_id_number or ""):
            raise InvalidStatement("unmasked_id_number")
        if not self.lines:
            raise InvalidStatement("no_lines")
        for name in ("medfee_sumamt", "inscp_scp_amt", "act_pay_dedc", "hifp_pay", "acct_pay",
                     "acct_mulaid_pay", "psn_cash_pay"):
            _require_amount(getattr(self, name), name)
        if self.balc is not None:
            _require_amount(self.balc, "balc")
        self._check_totals()

    def _check_totals(self) -> None:
        # A printed statement whose rows do not add up to its totals is worse than none: refuse it.
        if sum(line.amount for line in self.lines) != self.medfee_sumamt:
            raise InvalidStatement("lines_do_not_add_up", "lines vs medfee_sumamt")
        if sum(line.amount for line in self.lines if line.in_scope) != self.inscp_scp_amt:
            raise InvalidStatement("lines_do_not_add_up", "in-scope lines vs inscp_scp_amt")
        # Every fen of the total is paid by exactly one payer: the fund, the own account, a sharer's account
        # (家庭共济), or cash.
        paid = self.hifp_pay + self.acct_pay + self.acct_mulaid_pay + self.psn_cash_pay
        if paid != self.medfee_sumamt:
            raise InvalidStatement("payments_do_not_add_up", f"{paid} != {self.medfee_sumamt}")
        # A refund goes back along the original channel and never exceeds what that channel paid (NX §28).
        for name in ("hifp_pay", "acct_pay", "acct_mulaid_pay", "psn_cash_pay"):
            if sum(getattr(refund, name) for refund in self.refunds) > getattr(self, name):
                raise InvalidStatement("refund_exceeds_payment", name)
        refunded_lines = [n for refund in self.refunds for n in refund.line_nos]
        if any(not 1 <= n <= len(self.lines) for n in refunded_lines) or len(set(refunded_lines)) != len(
                refunded_lines):
            raise InvalidStatement("unknown_refunded_line")


def _in_display_zone(moment: dt.datetime) -> dt.datetime:
    if moment.tzinfo is None:
        return moment.replace(tzinfo=DISPLAY_ZONE)
    return moment.astimezone(DISPLAY_ZONE)


def _local_time(moment: dt.datetime) -> str:
    return _in_display_zone(moment).strftime(TIME_FORMAT)


def find_statement_font(font_path: str | os.PathLike[str] | None = None) -> Path:
    """The font file to embed: font_path when given (it must exist), else the first of FONT_CANDIDATES."""
    tried = [Path(font_path)] if font_path is not None else list(FONT_CANDIDATES)
    for path in tried:
        if path.is_file():
            return path
    raise StatementFontNotFound(tried)


def render_statement(data: StatementData, font_path: str | os.PathLike[str] | None = None) -> bytes:
    """The statement as PDF bytes. The same data gives the same bytes (the creation date is generated_at)."""
    pdf = _StatementPDF(data, find_statement_font(font_path))
    pdf.add_page()
    _write_title(pdf, data)
    _write_person_block(pdf, data)
    _write_lines_table(pdf, data)
    _write_totals(pdf, data)
    if data.refunds:
        _write_refunds(pdf, data)
        _write_net_totals(pdf, data)
    if data.explanation:
        _write_explanation(pdf, data)
    if data.sample_label:
        _write_sample_label(pdf, data)
    return bytes(pdf.output())


class _StatementPDF(FPDF):
    """A4 portrait; a running header and a numbered footer on every page."""

    def __init__(self, data: StatementData, font_file: Path):
        super().__init__(orientation="P", unit="mm", format="A4")
        self.data = data
        self.set_margins(MARGIN_MM, MARGIN_MM + 5, MARGIN_MM)
        self.set_auto_page_break(True, margin=MARGIN_MM + 5)
        self.add_font(FONT_FAMILY, "", font_file)
        self.set_font(FONT_FAMILY, size=BODY_PT)
        self.set_creation_date(_in_display_zone(data.generated_at))
        self.set_lang("zh-CN")
        # No personal data in the document metadata: it is shown by file managers and indexed by search tools.
        self.set_title(f"{data.title} {data.setl_id}")
        self.set_author(data.issuer)
        self.set_creator(data.issuer)

    def header(self) -> None:
        with self.local_context(font_size_pt=7.5, text_color=90, draw_color=150):
            self.set_y(MARGIN_MM - 3)
            self.cell(self.epw / 2, 4, self.data.issuer)
            self.cell(self.epw / 2, 4, f"{self.data.title}  结算编号：{self.data.setl_id}", align="R")
            self.line(MARGIN_MM, MARGIN_MM + 1.5, self.w - MARGIN_MM, MARGIN_MM + 1.5)
        self.set_y(MARGIN_MM + 5)

    def footer(self) -> None:
        with self.local_context(font_size_pt=7.5, text_color=90, draw_color=150):
            self.set_y(-MARGIN_MM)
            self.line(MARGIN_MM, self.get_y() - 1, self.w - MARGIN_MM, self.get_y() - 1)
            generated = _local_time(self.data.generated_at)
            self.cell(self.epw * 2 / 3, 4, f"经办机构：{self.data.issuer}    打印时间：{generated}")
            self.cell(self.epw / 3, 4, f"第 {self.page_no()} 页 / 共 {{nb}} 页", align="R")

    def keep_space(self, height_mm: float) -> None:
        """Start a new page unless height_mm fits, so a section title never ends a page alone."""
        if self.get_y() + height_mm > self.page_break_trigger:
            self.add_page()

    def section_title(self, text: str, following_mm: float) -> None:
        self.keep_space(LINE_MM * 2 + following_mm)
        self.ln(3)
        with self.local_context(font_size_pt=10.5, text_mode="FILL_STROKE", line_width=0.15):
            self.cell(0, LINE_MM + 1, text, new_x="LMARGIN", new_y="NEXT")


def _write_title(pdf: _StatementPDF, data: StatementData) -> None:
    # The font has no bold face; a thin outline over the fill reads as bold in every viewer.
    with pdf.local_context(font_size_pt=16, text_mode="FILL_STROKE", line_width=0.3):
        pdf.cell(0, 10, data.title, align="C", new_x="LMARGIN", new_y="NEXT")
    if data.refund_mark:
        # The mark a counter clerk or an employer looks for first: this statement's money went (partly) back.
        with pdf.local_context(font_size_pt=13, text_color=(200, 0, 0), draw_color=(200, 0, 0), line_width=0.5):
            pdf.cell(0, 8, f"【{data.refund_mark}】", align="C", border=0, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)


def _label_value_table(pdf: _StatementPDF, pairs: Sequence[tuple[str, str]], value_align: str = "L") -> None:
    """Two label/value pairs per row; long values wrap inside their cell."""
    with pdf.table(
        col_widths=(24, 66, 24, 66),
        first_row_as_headings=False,
        line_height=LINE_MM,
        text_align=("L", value_align, "L", value_align),
        wrapmode=WrapMode.CHAR,
        padding=(0.8, 1.5),
    ) as table:
        for start in range(0, len(pairs), 2):
            row = table.row()
            for label, value in pairs[start:start + 2]:
                row.cell(label, style=LABEL_STYLE)
                row.cell(value)
            if len(pairs[start:start + 2]) == 1:
                row.cell("", colspan=2)


def _write_person_block(pdf: _StatementPDF, data: StatementData) -> None:
    pdf.section_title("参保人及就诊信息", following_mm=LINE_MM * 5)
    _label_value_table(pdf, (
        ("姓名", data.person_name),
        ("身份证号", data.masked_id_number),
        ("参保地", data.region_label),
        ("人员类别", data.person_type_label),
        ("定点机构", data.institution_name),
        ("机构等级", data.institution_level_label),
        ("就诊日期", data.visit_date.strftime(DATE_FORMAT)),
        ("医疗类别", data.med_type_label),
        ("结算编号", data.setl_id),
        ("结算时间", _local_time(data.settled_at)),
    ))


def _write_lines_table(pdf: _StatementPDF, data: StatementData) -> None:
    pdf.section_title(f"费用明细（共 {len(data.lines)} 项，单位：元）", following_mm=LINE_MM * 3)
    with pdf.table(
        col_widths=(12, 36, 74, 24, 16, 18),
        headings_style=FontFace(emphasis="", fill_color=GREY_FILL),
        line_height=LINE_MM,
        text_align=("C", "L", "L", "R", "C", "C"),
        wrapmode=WrapMode.CHAR,
        padding=(0.8, 1.5),
        repeat_headings=1,
    ) as table:
        table.row(("序号", "项目编码", "项目名称", "金额", "医保范围", "状态"))
        for number, line in enumerate(data.lines, start=1):
            table.row((
                str(number),
                line.code,
                redact_id_numbers(line.name),
                fen_to_yuan(line.amount),
                "范围内" if line.in_scope else "范围外",
                "已退费" if line.refunded else "",
            ))
        total = table.row()
        total.cell("合计", colspan=3, align="R", style=LABEL_STYLE)
        total.cell(fen_to_yuan(data.medfee_sumamt), style=LABEL_STYLE)
        total.cell("", colspan=2, style=LABEL_STYLE)


def _write_totals(pdf: _StatementPDF, data: StatementData) -> None:
    pairs = [
        ("医疗费总额", fen_to_yuan(data.medfee_sumamt)),
        ("符合范围金额", fen_to_yuan(data.inscp_scp_amt)),
        ("本次起付线", fen_to_yuan(data.act_pay_dedc)),
        ("统筹基金支付", fen_to_yuan(data.hifp_pay)),
        ("个人账户支付", fen_to_yuan(data.acct_pay)),
        ("共济账户支付", fen_to_yuan(data.acct_mulaid_pay)),
        ("个人现金支付", fen_to_yuan(data.psn_cash_pay)),
    ]
    if data.balc is not None:
        pairs.append(("账户余额", fen_to_yuan(data.balc)))
    pdf.section_title("结算信息（单位：元）", following_mm=LINE_MM * 4)
    _label_value_table(pdf, pairs, value_align="R")


def _write_refunds(pdf: _StatementPDF, data: StatementData) -> None:
    pdf.section_title("退费记录（原渠道退回，单位：元）", following_mm=LINE_MM * 2)
    with pdf.table(
        col_widths=(34, 22, 24, 24, 24, 24, 28),
        headings_style=FontFace(emphasis="", fill_color=GREY_FILL),
        line_height=LINE_MM,
        text_align=("L", "C", "R", "R", "R", "R", "R"),
        wrapmode=WrapMode.CHAR,
        padding=(0.8, 1.5),
    ) as table:
        table.row(("退费时间", "退费明细", "统筹基金", "个人账户", "共济账户", "个人现金", "合计"))
        for refund in data.refunds:
            table.row((
                _local_time(refund.refunded_at),
                "、".join(str(n) for n in refund.line_nos) or "全部",
                fen_to_yuan(refund.hifp_pay),
                fen_to_yuan(refund.acct_pay),
                fen_to_yuan(refund.acct_mulaid_pay),
                fen_to_yuan(refund.psn_cash_pay),
                fen_to_yuan(refund.total),
            ))


def _write_net_totals(pdf: _StatementPDF, data: StatementData) -> None:
    """What each channel finally paid once the refunds went back (原结算金额 − 退费)."""
    pdf.section_title("退费后净额（单位：元）", following_mm=LINE_MM * 3)
    _label_value_table(pdf, (
        ("净医疗费", fen_to_yuan(data.net_medfee_sumamt)),
        ("净统筹支付", fen_to_yuan(data.net("hifp_pay"))),
        ("净个人账户", fen_to_yuan(data.net("acct_pay"))),
        ("净共济账户", fen_to_yuan(data.net("acct_mulaid_pay"))),
        ("净现金支付", fen_to_yuan(data.net("psn_cash_pay"))),
    ), value_align="R")


def _write_sample_label(pdf: _StatementPDF, data: StatementData) -> None:
    pdf.ln(2)
    with pdf.local_context(text_color=(150, 0, 0)):
        pdf.multi_cell(0, LINE_MM, data.sample_label, wrapmode=WrapMode.CHAR, new_x="LMARGIN", new_y="NEXT")


def _write_explanation(pdf: _StatementPDF, data: StatementData) -> None:
    pdf.section_title("计算说明", following_mm=LINE_MM)
    for number, sentence in enumerate(data.explanation, start=1):
        pdf.multi_cell(0, LINE_MM, f"{number}. {redact_id_numbers(sentence)}", wrapmode=WrapMode.CHAR,
                       new_x="LMARGIN", new_y="NEXT")
