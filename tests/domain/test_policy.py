import copy
import datetime as dt
import json
from pathlib import Path

import pytest

from backend.domain.money import apply_share, yuan_to_fen
from backend.domain.policy import (
    InvalidPolicyDocument,
    NoPolicyInForce,
    OverlappingPolicyVersions,
    Policy,
    check_versions,
    select_version,
)

POLICY_FILES = sorted((Path(__file__).resolve().parents[2] / "backend" / "policies").glob("*.json"))
DOCUMENTS = {path.stem: json.loads(path.read_text("utf-8")) for path in POLICY_FILES}
POLICIES = [Policy.from_document(doc) for doc in DOCUMENTS.values()]


def in_force(region, year, month, day):
    return select_version(POLICIES, region, dt.date(year, month, day))


def problems_of(doc):
    with pytest.raises(InvalidPolicyDocument) as refused:
        Policy.from_document(doc)
    return refused.value.problems


def nm_document():
    return copy.deepcopy(DOCUMENTS["nm-2022-10"])


@pytest.mark.parametrize("path", POLICY_FILES, ids=lambda path: path.name)
def test_every_shipped_policy_file_loads_and_is_named_after_its_version(path):
    policy = Policy.from_document(json.loads(path.read_text("utf-8")))
    assert policy.version == path.stem


def test_the_shipped_versions_of_a_region_never_overlap():
    check_versions(POLICIES)


def test_both_regions_ship_two_versions():
    assert sorted(DOCUMENTS) == ["nm-2022-10", "nm-2023-01", "nx-2023-08", "nx-2024-01"]


def test_inner_mongolia_carries_the_numbers_of_nm_articles_8_and_9():
    benefits = in_force("nm", 2022, 10, 1).benefits
    assert benefits.deductible.amount_fen.employed == yuan_to_fen(1000)
    assert benefits.deductible.amount_fen.retired == yuan_to_fen(1000)
    general = benefits.general
    assert (general.share_bp.tertiary.employed, general.share_bp.tertiary.retired) == (6000, 6000 + 500)
    # "二级及以下": secondary and primary share the 80 % (+5 points for retirees).
    for level in (general.share_bp.secondary, general.share_bp.primary):
        assert (level.employed, level.retired) == (8000, 8000 + 500)
    assert (general.cap_fen.employed, general.cap_fen.retired) == (yuan_to_fen(4000), yuan_to_fen(5000))
    assert benefits.combined_cap_fen.employed == yuan_to_fen("305000")
    assert general.counts_toward_combined_cap  # NM §9
    assert general.stops_in_arrears and general.stops_in_hospital  # NM §13, §12
    assert benefits.chronic_excludes_general  # NM §11
    assert "pharmacy" not in general.institution_kinds  # NM §19


def test_flexible_workers_are_treated_as_employed_when_the_document_is_silent():
    share = in_force("nm", 2023, 1, 1).benefits.general.share_bp.tertiary
    assert share.flexible == share.employed


def test_ningxia_shares_one_deductible_between_general_and_chronic_and_keeps_general_out_of_the_annual_maximum():
    benefits = in_force("nx", 2023, 8, 1).benefits
    assert benefits.deductible.buckets == {"general", "chronic"}  # NX §13
    assert not benefits.general.counts_toward_combined_cap  # NX §14


def test_ningxia_numbers_ship_as_a_labelled_sample_and_inner_mongolia_names_its_sample_values():
    for policy in POLICIES:
        if policy.region == "nx":
            assert policy.sample and "样例" in policy.label
        else:
            assert not policy.sample
            assert "benefits.buckets.chronic" in policy.sample_values
            assert "account.retiree_credit.base_fen" in policy.sample_values


@pytest.mark.parametrize(
    "service_date, version, ratio_bp",
    [
        (dt.date(2022, 10, 1), "nm-2022-10", 300),  # NM §3: 3 % from 2022-10-01
        (dt.date(2022, 12, 31), "nm-2022-10", 300),
        (dt.date(2023, 1, 1), "nm-2023-01", 200),  # NM §3: 2 % from 2023
        (dt.date(2031, 6, 30), "nm-2023-01", 200),  # the latest version is open-ended
    ],
)
def test_the_nm_retiree_credit_drops_from_3_to_2_percent_of_the_2021_average_pension_on_2023_01_01(
    service_date, version, ratio_bp
):
    policy = select_version(POLICIES, "nm", service_date)
    credit = policy.account.retiree_credit
    assert (policy.version, credit.ratio_bp) == (version, ratio_bp)
    assert credit.monthly_fen == apply_share(credit.base_fen, ratio_bp)


def test_nm_employed_accounts_are_credited_2_percent_of_the_contribution_base():
    assert in_force("nm", 2022, 10, 1).account.employed_credit_ratio_bp == 200  # NM §3


def test_nm_sharing_covers_spouse_parents_and_children_only():
    assert in_force("nm", 2023, 5, 1).sharing.relations == {"spouse", "father", "mother", "son", "daughter"}  # NM §4


def test_nm_account_may_not_pay_public_health_fitness_or_wellness():
    excluded = dict(in_force("nm", 2023, 5, 1).account.excluded_uses)
    assert set(excluded) == {"public_health", "fitness", "wellness"}  # NM §5


@pytest.mark.parametrize(
    "service_date, version, sibling_allowed",
    [
        (dt.date(2023, 8, 1), "nx-2023-08", False),
        (dt.date(2023, 12, 31), "nx-2023-08", False),
        (dt.date(2024, 1, 1), "nx-2024-01", True),
    ],
)
def test_nx_sharing_widens_to_all_close_relatives_from_2024(service_date, version, sibling_allowed):
    policy = select_version(POLICIES, "nx", service_date)
    assert policy.version == version
    # NX §6: spouse, parents (the spouse's too), children — always allowed, only inside the region.
    nx_6 = {"spouse", "father", "mother", "father_in_law", "mother_in_law", "son", "daughter"}
    assert nx_6 <= policy.sharing.relations
    assert policy.sharing.relative_insured_in_region_only
    assert ({"sibling", "grandparent", "grandchild"} <= policy.sharing.relations) is sibling_allowed


def test_nx_flexible_workers_get_one_lump_credit():
    assert in_force("nx", 2023, 8, 1).account.flexible_credit.timing == "lump_sum"  # NX §5


@pytest.mark.parametrize("region, day", [("nm", dt.date(2022, 9, 30)), ("nx", dt.date(2023, 7, 31))])
def test_a_date_before_the_first_version_has_no_policy_in_force(region, day):
    with pytest.raises(NoPolicyInForce) as refused:
        select_version(POLICIES, region, day)
    assert (refused.value.region, refused.value.on_date, refused.value.reason) == (region, day, "no_policy_in_force")


def test_valid_to_is_exclusive():
    policy = in_force("nm", 2022, 12, 31)
    assert policy.covers(dt.date(2022, 10, 1)) and not policy.covers(dt.date(2023, 1, 1))


def test_two_versions_covering_one_day_are_refused():
    doc = nm_document()
    doc["version"], doc["valid_from"], doc["valid_to"] = "nm-2022-11", "2022-11-01", None
    overlapping = [*POLICIES, Policy.from_document(doc)]
    with pytest.raises(OverlappingPolicyVersions):
        select_version(overlapping, "nm", dt.date(2022, 12, 1))
    with pytest.raises(OverlappingPolicyVersions) as refused:
        check_versions(overlapping)
    assert ("nm-2022-10", "nm-2022-11") in refused.value.pairs


def test_a_missing_field_is_refused_with_its_path():
    doc = nm_document()
    del doc["benefits"]["buckets"]["general"]["cap_fen"]["retired"]
    assert problems_of(doc) == ("benefits.buckets.general.cap_fen.retired: missing",)


def test_every_problem_of_a_document_is_listed_at_once():
    doc = nm_document()
    doc["benefits"]["buckets"]["general"]["share_bp"]["tertiary"]["employed"] = 12000
    doc["benefits"]["buckets"]["general"]["stops_in_arears"] = True
    doc["benefits"]["deductible"]["amount_fen"]["employed"] = -1
    doc["sharing"]["relations"].append("cousin")
    del doc["source"]
    problems = problems_of(doc)
    assert len(problems) == 5
    assert ("benefits.buckets.general.share_bp.tertiary.employed: must be whole basis points between 0 and 10000"
            in problems)
    assert "benefits.buckets.general.stops_in_arears: unknown key" in problems
    assert "benefits.deductible.amount_fen.employed: must be a non-negative whole number of fen" in problems
    assert any(problem.startswith("sharing.relations: unknown cousin") for problem in problems)
    assert "source: missing" in problems


def test_the_error_message_names_the_version_and_the_problems():
    doc = nm_document()
    doc["valid_to"] = "2022-09-01"
    with pytest.raises(InvalidPolicyDocument, match=r"nm-2022-10: valid_to: must be after valid_from"):
        Policy.from_document(doc)


@pytest.mark.parametrize(
    "change, problem",
    [
        (lambda doc: doc.update(region="gd"), "region: must be one of nm, nx"),
        (lambda doc: doc.update(version="nx-2022-10"), 'version: must start with "nm-"'),
        (lambda doc: doc.update(valid_from="2022/10/01"), "valid_from: must be a date YYYY-MM-DD"),
        (lambda doc: doc.update(sample="no"), "sample: must be true or false"),
        (lambda doc: doc.update(sample=True), 'label: a sample document must say "样例" in its label'),
        (lambda doc: doc["sample_values"].append("benefits.nothing"),
         "sample_values: benefits.nothing is not a path in this document"),
        (lambda doc: doc["benefits"]["deductible"].update(buckets=["general", "dental"]),
         "benefits.deductible.buckets: unknown dental (allowed: chronic, general)"),
        (lambda doc: doc["account"]["flexible_credit"].update(timing="weekly"),
         "account.flexible_credit.timing: must be one of lump_sum, monthly"),
        (lambda doc: doc["benefits"].update(buckets=[]), "benefits.buckets: must be an object"),
    ],
)
def test_an_invalid_field_is_refused_with_a_clear_message(change, problem):
    doc = nm_document()
    change(doc)
    assert problem in problems_of(doc)


def test_a_document_that_is_not_an_object_is_refused():
    assert problems_of([]) == ("document: must be an object",)
