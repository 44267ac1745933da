"""Versioned policy data: one document per region × validity interval, parsed into frozen dataclasses.

A fee is judged by the version in force on its service date (POLICY.md); a change of policy is a new document,
never an edit. Documents live in ``backend/policies/<version>.json``. All money is integer fen (keys end in
``_fen``), all shares and ratios integer basis points (keys end in ``_bp``; 60 % == 6000).

Document keys::

    region            "nx" | "nm"
    version           unique code that starts with the region: "nm-2022-10"
    label             Chinese title shown to people; must contain "样例" when the document is a sample
    valid_from        first day in force, "YYYY-MM-DD" (inclusive)
    valid_to          first day no longer in force (exclusive), or null = open-ended
    sample            true when the numbers are not from the source document: an operator must replace them
    sample_values     optional: dotted paths of single values that are samples inside a non-sample document
    source            {"title", "document", "articles"}: the citation
    notes             optional: Chinese sentences saying where each number comes from
    benefits
      deductible      {"amount_fen": <per type>, "buckets": [...]}: ONE annual deductible, drawn on by the
                      listed buckets together (NX §13: general and chronic accumulate together); a bucket not
                      listed has no deductible
      combined_cap_fen  <per type>: the basic-insurance annual maximum shared with inpatient pooling and 大额
                      (NM §9)
      chronic_excludes_general  true: a person holding a chronic qualification gets no general pooling (NM §11)
      buckets         {"general": <bucket>, "chronic": <bucket>}, each:
        share_bp      {"tertiary"|"secondary"|"primary": <per type>}: the fund's share by hospital level
        cap_fen       <per type>: the bucket's annual fund cap
        counts_toward_combined_cap  whether the bucket's payments count toward combined_cap_fen (NM §9 yes,
                      NX §14 no for general)
        stops_in_arrears   arrears stop this bucket's pooling (NM §13)
        stops_in_hospital  no pooling from this bucket while hospitalised (NM §12)
        institution_kinds  kinds of designated institution where this bucket pays (NM §19)
    account           (individual-account credits and uses, NM §3–§5, NX §5–§6)
      employed_credit_ratio_bp   monthly credit as a share of the contribution base
      flexible_credit  {"ratio_bp", "timing": "monthly" | "lump_sum"} (NX §5: lump sum once fully paid)
      retiree_credit   {"base_fen", "base_label", "ratio_bp"}: fixed monthly credit = base × ratio
      allowed_uses     {code: Chinese description} (NM §4)
      payment_scope    optional: {"out_of_scope_lines": bool, "article": Chinese citation}: whether fee lines
                       outside the catalogues may be paid from the account, and the article that says so;
                       absent = may be paid, no article (the behaviour before the key existed)
      contribution_relations  optional: relations whose 居民医保 / 长护险 contribution the account may pay;
                       absent = spouse, parents, children (NM §4, NX §31), so versions stored before the key existed
                       keep parsing
      excluded_uses    {code: Chinese description} (NM §5)
    sharing
      relations        canonical relation names a person may authorise (NX §6, NM §4)
      relative_insured_in_region_only  the relative must be insured in the same region (NX §6)

``<per type>`` is ``{"employed": n, "retired": n}`` with an optional ``"flexible": n``; flexible workers are
treated as employed unless the document gives their own value (POLICY.md §1).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from backend.domain.money import BASIS_POINTS, apply_share
from backend.domain.people import PERSON_TYPES, REGIONS
from backend.domain.sharing import RELATIONS

HOSPITAL_LEVELS = ("tertiary", "secondary", "primary")
INSTITUTION_KINDS = ("hospital", "community_health_centre", "pharmacy")
GENERAL = "general"
CHRONIC = "chronic"
BUCKETS = (GENERAL, CHRONIC)
CREDIT_TIMINGS = ("monthly", "lump_sum")
SAMPLE_MARK = "样例"
# NM §4 and NX §31 name the relatives whose contributions the account may pay: spouse, parents, children.
CONTRIBUTION_RELATIONS = frozenset({"spouse", "father", "mother", "son", "daughter"})


class InvalidPolicyDocument(ValueError):
    """A policy document that cannot be used; ``problems`` lists every wrong field as "path: what"."""

    reason = "invalid_policy_document"

    def __init__(self, version: str, problems: Iterable[str]):
        self.version = version
        self.problems = tuple(problems)
        super().__init__(f"invalid policy document {version}: " + "; ".join(self.problems))


class NoPolicyInForce(LookupError):
    """No version of the region's policy covers the date."""

    reason = "no_policy_in_force"

    def __init__(self, region: str, on_date: dt.date):
        self.region = region
        self.on_date = on_date
        super().__init__(f"no {region} policy in force on {on_date.isoformat()}")


class OverlappingPolicyVersions(ValueError):
    """Two versions of one region cover the same day, so a fee could be judged two ways."""

    reason = "overlapping_policy_versions"

    def __init__(self, pairs: Iterable[tuple[str, str]]):
        self.pairs = tuple(pairs)
        super().__init__("overlapping policy versions: " + ", ".join(f"{a} / {b}" for a, b in self.pairs))


@dataclass(frozen=True)
class PerPersonType:
    employed: int
    retired: int
    flexible: int

    def of(self, person_type: str) -> int:
        return getattr(self, person_type)


@dataclass(frozen=True)
class PerLevel:
    tertiary: PerPersonType
    secondary: PerPersonType
    primary: PerPersonType

    def of(self, level: str) -> PerPersonType:
        return getattr(self, level)


@dataclass(frozen=True)
class Deductible:
    amount_fen: PerPersonType
    buckets: frozenset[str]


@dataclass(frozen=True)
class BucketRule:
    name: str
    share_bp: PerLevel
    cap_fen: PerPersonType
    counts_toward_combined_cap: bool
    stops_in_arrears: bool
    stops_in_hospital: bool
    institution_kinds: frozenset[str]


@dataclass(frozen=True)
class Benefits:
    deductible: Deductible
    combined_cap_fen: PerPersonType
    chronic_excludes_general: bool
    general: BucketRule
    chronic: BucketRule

    def bucket(self, name: str) -> BucketRule:
        return getattr(self, name)


@dataclass(frozen=True)
class FlexibleCredit:
    ratio_bp: int
    timing: str


@dataclass(frozen=True)
class RetireeCredit:
    base_fen: int
    base_label: str
    ratio_bp: int

    @property
    def monthly_fen(self) -> int:
        return apply_share(self.base_fen, self.ratio_bp)


@dataclass(frozen=True)
class PaymentScope:
    out_of_scope_lines: bool
    article: str


@dataclass(frozen=True)
class AccountRules:
    employed_credit_ratio_bp: int
    flexible_credit: FlexibleCredit
    retiree_credit: RetireeCredit
    allowed_uses: tuple[tuple[str, str], ...]
    excluded_uses: tuple[tuple[str, str], ...]
    contribution_relations: frozenset[str]
    payment_scope: PaymentScope = PaymentScope(out_of_scope_lines=True, article="")


@dataclass(frozen=True)
class SharingRules:
    relations: frozenset[str]
    relative_insured_in_region_only: bool


@dataclass(frozen=True)
class Source:
    title: str
    document: str
    articles: str


@dataclass(frozen=True)
class Policy:
    region: str
    version: str
    label: str
    valid_from: dt.date
    valid_to: dt.date | None
    sample: bool
    sample_values: tuple[str, ...]
    source: Source
    notes: tuple[str, ...]
    benefits: Benefits
    account: AccountRules
    sharing: SharingRules

    def sample_parameters(self, paths: Iterable[str]) -> tuple[str, ...]:
        """Those of the given parameter paths whose values are samples: all of them in a sample document, else
        the ones inside (or containing) a path listed in ``sample_values``."""
        return tuple(path for path in paths if self.sample or any(
            path == value or path.startswith(value + ".") or value.startswith(path + ".")
            for value in self.sample_values))

    def covers(self, on_date: dt.date) -> bool:
        return self.valid_from <= on_date and (self.valid_to is None or on_date < self.valid_to)

    @classmethod
    def from_document(cls, doc: Mapping[str, Any]) -> Policy:
        """Parse and validate a document; raise InvalidPolicyDocument listing every problem at once."""
        reader = _Reader()
        policy = _read_policy(reader, doc)
        if reader.problems:
            version = doc.get("version") if isinstance(doc, Mapping) else None
            raise InvalidPolicyDocument(str(version or "?"), reader.problems)
        return policy


# Chinese names of the parameters an output may depend on, for the sample label people read.
PARAMETER_LABELS = {
    "benefits.deductible.amount_fen": "起付标准",
    "benefits.buckets.general.share_bp": "普通门诊统筹支付比例",
    "benefits.buckets.general.cap_fen": "普通门诊统筹年度支付限额",
    "benefits.buckets.chronic.share_bp": "门诊慢特病支付比例",
    "benefits.buckets.chronic.cap_fen": "门诊慢特病年度支付限额",
    "benefits.combined_cap_fen": "基本医疗保险年度最高支付限额",
    "account.employed_credit_ratio_bp": "在职职工个人账户划入比例",
    "account.flexible_credit": "灵活就业人员个人账户划入标准",
    "account.retiree_credit.base_fen": "退休人员个人账户划入基数",
    "account.retiree_credit.ratio_bp": "退休人员个人账户划入比例",
}


@dataclass(frozen=True)
class SampleNotice:
    """Whether an output was computed from sample parameters, which ones, and the sentence that says so."""

    parameters: tuple[str, ...]
    label: str | None

    @property
    def is_sample(self) -> bool:
        return bool(self.parameters)

    def as_dict(self) -> dict[str, Any]:
        return {"is_sample": self.is_sample, "label": self.label, "parameters": list(self.parameters)}


def sample_notice(policy: Policy, paths: Iterable[str]) -> SampleNotice:
    """The sample label for an output computed from these parameter paths of the policy (issue #11.5)."""
    samples = policy.sample_parameters(paths)
    if not samples:
        return SampleNotice((), None)
    names = "、".join(dict.fromkeys(PARAMETER_LABELS.get(path, path) for path in samples))
    return SampleNotice(samples, f"{SAMPLE_MARK}参数：本结果所用的{names}为项目样例值，并非医保部门公布的标准，"
                                 "仅供参考，以经办机构公布的为准。")


def select_version(policies: Iterable[Policy], region: str, on_date: dt.date) -> Policy:
    """The version of the region's policy in force on the service date."""
    covering = [p for p in policies if p.region == region and p.covers(on_date)]
    if not covering:
        raise NoPolicyInForce(region, on_date)
    if len(covering) > 1:
        raise OverlappingPolicyVersions([(covering[0].version, other.version) for other in covering[1:]])
    return covering[0]


def check_versions(policies: Iterable[Policy]) -> None:
    """Refuse a set of versions where two of one region overlap (run before loading them)."""
    by_region: dict[str, list[Policy]] = {}
    for policy in policies:
        by_region.setdefault(policy.region, []).append(policy)
    pairs = []
    for versions in by_region.values():
        versions.sort(key=lambda p: p.valid_from)
        for earlier, later in zip(versions, versions[1:]):
            if earlier.valid_to is None or later.valid_from < earlier.valid_to:
                pairs.append((earlier.version, later.version))
    if pairs:
        raise OverlappingPolicyVersions(pairs)


# --- reading documents ---------------------------------------------------------------------------------------

_TOP_KEYS = {
    "region", "version", "label", "valid_from", "valid_to", "sample", "sample_values", "source", "notes",
    "benefits", "account", "sharing",
}
_BUCKET_KEYS = {
    "share_bp", "cap_fen", "counts_toward_combined_cap", "stops_in_arrears", "stops_in_hospital",
    "institution_kinds",
}
_ABSENT = object()
_NO_SECTION: Mapping[str, Any] = {}  # a missing or malformed section: its fields are not reported again
Node = Mapping[str, Any]


class _Reader:
    """Walks a document and collects every problem instead of stopping at the first one."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def complain(self, path: str, message: str) -> None:
        self.problems.append(f"{path}: {message}")

    def value(self, node: Node, key: str, path: str, *, optional: bool = False) -> Any:
        if key in node:
            return node[key]
        if not optional and node is not _NO_SECTION:
            self.complain(_join(path, key), "missing")
        return _ABSENT

    def section(self, node: Node, key: str, path: str, keys: Collection[str] | None) -> Node:
        """A nested object; with ``keys``, any other key is reported (catches misspelt flags)."""
        value = self.value(node, key, path)
        here = _join(path, key)
        if value is _ABSENT:
            return _NO_SECTION
        if not isinstance(value, Mapping):
            self.complain(here, "must be an object")
            return _NO_SECTION
        if keys is not None:
            for unknown in sorted(set(value) - set(keys)):
                self.complain(_join(here, unknown), "unknown key")
        return value

    def checked(self, node: Node, key: str, path: str, check: Callable[[Any], str | None],
                *, optional: bool = False, default: Any = None) -> Any:
        value = self.value(node, key, path, optional=optional)
        if value is _ABSENT:
            return default
        problem = check(value)
        if problem:
            self.complain(_join(path, key), problem)
            return default
        return value

    def text(self, node: Node, key: str, path: str) -> str:
        return self.checked(node, key, path, _check_text, default="")

    def flag(self, node: Node, key: str, path: str) -> bool:
        return self.checked(node, key, path, _check_flag, default=False)

    def fen(self, node: Node, key: str, path: str) -> int:
        return self.checked(node, key, path, _check_fen, default=0)

    def basis_points(self, node: Node, key: str, path: str) -> int:
        return self.checked(node, key, path, _check_basis_points, default=0)

    def choice(self, node: Node, key: str, path: str, options: Collection[str]) -> str:
        return self.checked(node, key, path, lambda v: _check_choice(v, options), default="")

    def choices(self, node: Node, key: str, path: str, options: Collection[str], *,
                default: Collection[str] | None = None) -> frozenset[str]:
        """A list of names; with ``default`` the key is optional and its absence means the default."""
        return frozenset(self.checked(node, key, path, lambda v: _check_choices(v, options),
                                      optional=default is not None, default=default or ()))

    def texts(self, node: Node, key: str, path: str) -> tuple[str, ...]:
        return tuple(self.checked(node, key, path, _check_texts, optional=True, default=()))

    def date(self, node: Node, key: str, path: str, *, nullable: bool = False) -> dt.date | None:
        value = self.value(node, key, path)
        if value is _ABSENT or (value is None and nullable):
            return None
        try:
            return dt.date.fromisoformat(value)
        except (TypeError, ValueError):
            self.complain(_join(path, key), "must be a date YYYY-MM-DD" + (" or null" if nullable else ""))
            return None

    def labels(self, node: Node, key: str, path: str) -> tuple[tuple[str, str], ...]:
        section = self.section(node, key, path, None)
        for code, label in section.items():
            if _check_text(label):
                self.complain(_join(_join(path, key), code), "must be a non-empty Chinese description")
        return tuple(section.items())

    def per_type(self, node: Node, key: str, path: str, read: Callable[..., int]) -> PerPersonType:
        here = _join(path, key)
        section = self.section(node, key, path, PERSON_TYPES)
        employed = read(section, "employed", here)
        retired = read(section, "retired", here)
        flexible = read(section, "flexible", here) if "flexible" in section else employed
        return PerPersonType(employed=employed, retired=retired, flexible=flexible)


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _check_text(value: Any) -> str | None:
    return None if isinstance(value, str) and value.strip() else "must be a non-empty string"


def _check_flag(value: Any) -> str | None:
    return None if isinstance(value, bool) else "must be true or false"


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_fen(value: Any) -> str | None:
    return None if _is_int(value) and value >= 0 else "must be a non-negative whole number of fen"


def _check_basis_points(value: Any) -> str | None:
    if _is_int(value) and 0 <= value <= BASIS_POINTS:
        return None
    return f"must be whole basis points between 0 and {BASIS_POINTS}"


def _check_choice(value: Any, options: Collection[str]) -> str | None:
    return None if value in options else "must be one of " + ", ".join(sorted(options))


def _check_choices(value: Any, options: Collection[str]) -> str | None:
    if not isinstance(value, list) or any(not isinstance(item, str) for item in value):
        return "must be a list of names"
    if len(set(value)) != len(value):
        return "lists a name twice"
    unknown = [item for item in value if item not in options]
    return f"unknown {', '.join(unknown)} (allowed: {', '.join(sorted(options))})" if unknown else None


def _check_texts(value: Any) -> str | None:
    if isinstance(value, list) and all(_check_text(item) is None for item in value):
        return None
    return "must be a list of non-empty strings"


def _read_policy(reader: _Reader, doc: Any) -> Policy | None:
    if not isinstance(doc, Mapping):
        reader.complain("document", "must be an object")
        return None
    for unknown in sorted(set(doc) - _TOP_KEYS):
        reader.complain(unknown, "unknown key")
    region = reader.choice(doc, "region", "", REGIONS)
    version = reader.text(doc, "version", "")
    if region and version and not version.startswith(f"{region}-"):
        reader.complain("version", f'must start with "{region}-"')
    label = reader.text(doc, "label", "")
    sample = reader.flag(doc, "sample", "")
    if sample and label and SAMPLE_MARK not in label:
        reader.complain("label", f'a sample document must say "{SAMPLE_MARK}" in its label')
    valid_from = reader.date(doc, "valid_from", "")
    valid_to = reader.date(doc, "valid_to", "", nullable=True)
    if valid_from and valid_to and valid_to <= valid_from:
        reader.complain("valid_to", "must be after valid_from")
    sample_values = reader.texts(doc, "sample_values", "")
    for path in sample_values:
        if not _resolves(doc, path):
            reader.complain("sample_values", f"{path} is not a path in this document")
    return Policy(
        region=region,
        version=version,
        label=label,
        valid_from=valid_from,
        valid_to=valid_to,
        sample=sample,
        sample_values=sample_values,
        source=_read_source(reader, doc),
        notes=reader.texts(doc, "notes", ""),
        benefits=_read_benefits(reader, doc),
        account=_read_account(reader, doc),
        sharing=_read_sharing(reader, doc),
    )


def _resolves(doc: Mapping[str, Any], dotted: str) -> bool:
    node: Any = doc
    for key in dotted.split("."):
        if not isinstance(node, Mapping) or key not in node:
            return False
        node = node[key]
    return True


def _read_source(reader: _Reader, doc: Mapping[str, Any]) -> Source:
    section = reader.section(doc, "source", "", {"title", "document", "articles"})
    return Source(
        title=reader.text(section, "title", "source"),
        document=reader.text(section, "document", "source"),
        articles=reader.text(section, "articles", "source"),
    )


def _read_benefits(reader: _Reader, doc: Mapping[str, Any]) -> Benefits:
    path = "benefits"
    section = reader.section(
        doc, "benefits", "", {"deductible", "combined_cap_fen", "chronic_excludes_general", "buckets"}
    )
    deductible = reader.section(section, "deductible", path, {"amount_fen", "buckets"})
    buckets = reader.section(section, "buckets", path, BUCKETS)
    return Benefits(
        deductible=Deductible(
            amount_fen=reader.per_type(deductible, "amount_fen", "benefits.deductible", reader.fen),
            buckets=reader.choices(deductible, "buckets", "benefits.deductible", BUCKETS),
        ),
        combined_cap_fen=reader.per_type(section, "combined_cap_fen", path, reader.fen),
        chronic_excludes_general=reader.flag(section, "chronic_excludes_general", path),
        general=_read_bucket(reader, buckets, GENERAL),
        chronic=_read_bucket(reader, buckets, CHRONIC),
    )


def _read_bucket(reader: _Reader, buckets: Mapping[str, Any], name: str) -> BucketRule:
    path = f"benefits.buckets.{name}"
    section = reader.section(buckets, name, "benefits.buckets", _BUCKET_KEYS)
    shares = reader.section(section, "share_bp", path, HOSPITAL_LEVELS)
    share_path = f"{path}.share_bp"
    return BucketRule(
        name=name,
        share_bp=PerLevel(**{
            level: reader.per_type(shares, level, share_path, reader.basis_points) for level in HOSPITAL_LEVELS
        }),
        cap_fen=reader.per_type(section, "cap_fen", path, reader.fen),
        counts_toward_combined_cap=reader.flag(section, "counts_toward_combined_cap", path),
        stops_in_arrears=reader.flag(section, "stops_in_arrears", path),
        stops_in_hospital=reader.flag(section, "stops_in_hospital", path),
        institution_kinds=reader.choices(section, "institution_kinds", path, INSTITUTION_KINDS),
    )


def _read_account(reader: _Reader, doc: Mapping[str, Any]) -> AccountRules:
    path = "account"
    section = reader.section(doc, "account", "", {
        "employed_credit_ratio_bp", "flexible_credit", "retiree_credit", "allowed_uses", "excluded_uses",
        "contribution_relations", "payment_scope",
    })
    flexible = reader.section(section, "flexible_credit", path, {"ratio_bp", "timing"})
    retiree = reader.section(section, "retiree_credit", path, {"base_fen", "base_label", "ratio_bp"})
    return AccountRules(
        employed_credit_ratio_bp=reader.basis_points(section, "employed_credit_ratio_bp", path),
        flexible_credit=FlexibleCredit(
            ratio_bp=reader.basis_points(flexible, "ratio_bp", "account.flexible_credit"),
            timing=reader.choice(flexible, "timing", "account.flexible_credit", CREDIT_TIMINGS),
        ),
        retiree_credit=RetireeCredit(
            base_fen=reader.fen(retiree, "base_fen", "account.retiree_credit"),
            base_label=reader.text(retiree, "base_label", "account.retiree_credit"),
            ratio_bp=reader.basis_points(retiree, "ratio_bp", "account.retiree_credit"),
        ),
        allowed_uses=reader.labels(section, "allowed_uses", path),
        excluded_uses=reader.labels(section, "excluded_uses", path),
        contribution_relations=reader.choices(section, "contribution_relations", path, RELATIONS,
                                              default=CONTRIBUTION_RELATIONS),
        payment_scope=_read_payment_scope(reader, section),
    )


def _read_payment_scope(reader: _Reader, account: Mapping[str, Any]) -> PaymentScope:
    if "payment_scope" not in account:
        return PaymentScope(out_of_scope_lines=True, article="")
    section = reader.section(account, "payment_scope", "account", {"out_of_scope_lines", "article"})
    return PaymentScope(
        out_of_scope_lines=reader.flag(section, "out_of_scope_lines", "account.payment_scope"),
        article=reader.text(section, "article", "account.payment_scope"),
    )


def _read_sharing(reader: _Reader, doc: Mapping[str, Any]) -> SharingRules:
    section = reader.section(doc, "sharing", "", {"relations", "relative_insured_in_region_only"})
    return SharingRules(
        relations=reader.choices(section, "relations", "sharing", RELATIONS),
        relative_insured_in_region_only=reader.flag(section, "relative_insured_in_region_only", "sharing"),
    )
