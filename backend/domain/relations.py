"""Whether a stated family relation is plausible from the two ID numbers, as a pure rule.

A resident ID number (GB 11643) carries the birth date (digits 7–14) and the sex (digit 17: odd male, even
female). So before a grant, a contribution for a relative or a counter grant is accepted, the relation stated by
the person is checked against both numbers:

- a parent is older than the child by at least ``MIN_PARENT_GAP_YEARS`` (a grandparent by twice that): a
  "daughter" born 25 years before her "father" is refused (``relation_age_implausible``);
- where the relation names a sex (father, mother, the spouse's father or mother, son, daughter), the relative's
  sex digit must agree (``relation_sex_mismatch``); a spouse is of the other sex (marriage is between a man and a
  woman, Civil Code art. 1046–1049).

This cannot prove a relation — the signed 承诺书 does that (NX §7) — it refuses the ones the numbers rule out.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from backend.domain.identity import birth_date_of

MIN_PARENT_GAP_YEARS = 15

MALE, FEMALE = "male", "female"


class RelationProblem(StrEnum):
    AGE_IMPLAUSIBLE = "relation_age_implausible"
    SEX_MISMATCH = "relation_sex_mismatch"


PROBLEM_MESSAGES = {
    RelationProblem.AGE_IMPLAUSIBLE: "所填亲属关系与双方身份证号码中的出生日期不符，请核对关系或身份证号码",
    RelationProblem.SEX_MISMATCH: "所填亲属关系与被授权人身份证号码中的性别不符，请核对关系或身份证号码",
}


@dataclass(frozen=True)
class _Expectation:
    generations: int  # generations the relative is above (+) or below (−) the person; 0: the same
    sex: str | None  # the relative's sex the relation names, or None
    other_sex: bool = False  # the relative is of the person's other sex (spouse)
    check_age: bool = True


# The relative as seen from the person: "father" means the relative is the person's father.
EXPECTATIONS = {
    "spouse": _Expectation(0, None, other_sex=True, check_age=False),
    "father": _Expectation(1, MALE),
    "mother": _Expectation(1, FEMALE),
    # The spouse's parents: older than the spouse, not necessarily by a margin over the person, so sex only.
    "father_in_law": _Expectation(1, MALE, check_age=False),
    "mother_in_law": _Expectation(1, FEMALE, check_age=False),
    "son": _Expectation(-1, MALE),
    "daughter": _Expectation(-1, FEMALE),
    "sibling": _Expectation(0, None, check_age=False),
    "grandparent": _Expectation(2, None),
    "grandchild": _Expectation(-2, None),
}


class RelationImplausible(ValueError):
    def __init__(self, problem: RelationProblem):
        self.reason = problem
        self.message = PROBLEM_MESSAGES[problem]
        super().__init__(self.message)


def sex_of(id_number: str) -> str:
    return MALE if int(id_number[16]) % 2 else FEMALE


def relation_problem(person_id_number: str, relative_id_number: str, relation: str) -> RelationProblem | None:
    """What the two (already validated) ID numbers say against the relation, or None when it is plausible.

    A relation outside the vocabulary is not judged here: the allowed set of the policy version refuses it.
    """
    expected = EXPECTATIONS.get(relation)
    if expected is None:
        return None
    relative_sex, person_sex = sex_of(relative_id_number), sex_of(person_id_number)
    if expected.sex is not None and relative_sex != expected.sex:
        return RelationProblem.SEX_MISMATCH
    if expected.other_sex and relative_sex == person_sex:
        return RelationProblem.SEX_MISMATCH
    if expected.check_age and expected.generations:
        if not _plausible_gap(birth_date_of(person_id_number), birth_date_of(relative_id_number),
                              expected.generations):
            return RelationProblem.AGE_IMPLAUSIBLE
    return None


def check_relation(person_id_number: str, relative_id_number: str, relation: str) -> None:
    problem = relation_problem(person_id_number, relative_id_number, relation)
    if problem is not None:
        raise RelationImplausible(problem)


def _plausible_gap(person_birth: dt.date, relative_birth: dt.date, generations: int) -> bool:
    """The elder was at least MIN_PARENT_GAP_YEARS old (per generation) on the younger one's birth date."""
    elder, younger = (relative_birth, person_birth) if generations > 0 else (person_birth, relative_birth)
    years = MIN_PARENT_GAP_YEARS * abs(generations)
    return _add_years(elder, years) <= younger


def _add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February in a year that has none
        return day.replace(year=day.year + years, day=28)
