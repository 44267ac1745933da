"""`flask import-people FILE.csv` (DESIGN §4.5): bad rows reported by line number, nothing of them written."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from backend.extensions import db
from backend.models import IndividualAccount, LedgerPosting, Person
from tests.conftest import valid_id_number

HEADER = "id_number,name,region,person_type,status,contribution_base,monthly_credit,account_balance,employer\n"
ALICE = valid_id_number("64010419800101123")
BOB = valid_id_number("15010219750505456")


@pytest.fixture
def run_import(app, tmp_path):
    def run(text: str):
        path = tmp_path / "people.csv"
        path.write_text(text, encoding="utf-8")
        return app.test_cli_runner().invoke(args=["import-people", str(path)])

    return run


def _people() -> dict[str, Person]:
    return {p.id_number: p for p in db.session.scalars(select(Person))}


def test_good_rows_are_imported_with_their_accounts_and_extra_columns_are_ignored(run_import):
    result = run_import(HEADER + f"{ALICE},李梅,nx,employed,active,6000.50,120,800.00,某公司\n"
                                 f"{BOB},巴图,nm,retired,active,0,0,,\n")
    assert result.exit_code == 0, result.output
    assert "created 2, updated 0, rejected 0" in result.output
    people = _people()
    assert people[ALICE].contribution_base_fen == 600050
    assert people[BOB].region_code == "nm"
    balances = {a.person_id: a.balance_fen for a in db.session.scalars(select(IndividualAccount))}
    assert balances == {people[ALICE].id: 80000, people[BOB].id: 0}


def test_a_bad_row_is_reported_with_its_line_number_and_nothing_of_it_is_written(run_import):
    wrong_check_digit = ALICE[:17] + ("0" if ALICE[17] != "0" else "1")
    result = run_import(HEADER + f"{BOB},巴图,nm,retired,active,0,0,,\n"
                                 f"{wrong_check_digit},坏行,nx,employed,active,5000,0,100,\n"
                                 f"{ALICE},李梅,xx,boss,active,-5,0,,\n")
    assert result.exit_code == 1
    assert "line 3: id_number: invalid (checksum)" in result.output
    assert "line 4:" in result.output and "region" in result.output and "person_type" in result.output
    assert "contribution_base" in result.output
    assert set(_people()) == {BOB}
    assert db.session.scalar(select(db.func.count()).select_from(LedgerPosting)) == 0
    assert wrong_check_digit not in result.output  # no full ID number in the report either


def test_reimporting_updates_in_place_and_never_repeats_the_opening_balance(run_import):
    run_import(HEADER + f"{ALICE},李梅,nx,employed,active,6000,0,800,\n")
    result = run_import(HEADER + f"{ALICE},李梅,nx,employed,arrears,7000,0,999,\n")
    assert "created 0, updated 1" in result.output
    person = _people()[ALICE]
    assert (person.status, person.contribution_base_fen) == ("arrears", 700000)
    account = db.session.scalar(select(IndividualAccount).where(IndividualAccount.person_id == person.id))
    assert account.balance_fen == 80000
    assert db.session.scalar(select(db.func.count()).select_from(LedgerPosting)) == 1


def test_a_file_without_the_required_columns_is_refused_whole(run_import):
    result = run_import("id_number,name\n" + f"{ALICE},李梅\n")
    assert result.exit_code == 1
    assert "line 1: missing columns: region, person_type, status, contribution_base, monthly_credit" in result.output
    assert _people() == {}


def test_a_quoted_field_spanning_lines_keeps_the_reported_line_numbers_true(run_import):
    result = run_import(HEADER + f'{BOB},"巴\n图",nm,retired,active,0,0,,\n'
                                 f"{ALICE},李梅,nx,employed,active,abc,0,,\n")
    assert "line 4:" in result.output  # the second record starts on the file's fourth line


def test_a_blank_amount_that_does_not_apply_to_the_row_means_not_applicable(run_import):
    # DESIGN §4.13: an employed person has no fixed monthly credit, a retiree no contribution base.
    result = run_import(HEADER + f"{ALICE},李梅,nx,employed,active,6000,,,\n"
                                 f"{BOB},巴图,nm,retired,active,,0,,\n")
    assert result.exit_code == 0, result.output
    people = _people()
    assert (people[ALICE].contribution_base_fen, people[ALICE].monthly_credit_fen) == (600000, 0)
    assert (people[BOB].contribution_base_fen, people[BOB].monthly_credit_fen) == (0, 0)


@pytest.mark.parametrize("row, column", [
    (f"{ALICE},李梅,nx,employed,active,,0,,\n", "contribution_base"),  # blank, but it applies
    (f"{ALICE},李梅,nx,employed,active,6000,abc,,\n", "monthly_credit"),  # does not apply, but malformed
    (f"{BOB},巴图,nm,retired,active,1x,0,,\n", "contribution_base"),
])
def test_a_blank_amount_that_applies_or_a_malformed_one_is_still_refused(run_import, row, column):
    result = run_import(HEADER + row)
    assert result.exit_code == 1
    assert f"line 2: {column}" in result.output
    assert _people() == {}
