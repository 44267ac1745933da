"""Demo data for `make run` and the README (`flask --app wsgi seed-demo`): people in both regions, families,
institutions, staff, applications, sharing grants and settlements — kept out of the production services.

Safe to run again: everything is looked up by its natural key first and updated in place.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from sqlalchemy import select

from backend.demo import applications, settlements, sharing
from backend.domain.people import PersonRecord
from backend.extensions import db
from backend.models import ChronicQualification, Institution
from backend.services import chronic, people, policies
from backend.services import staff as staff_service

# (id_number, name, region, person_type, status, contribution base yuan, opening balance yuan, pool, family)
DEMO_PEOPLE = (
    ("640104198506120314", "张伟", "nx", "employed", "active", 8000, 1200, "640100", "张家: 本人"),
    ("640106198709150428", "李娜", "nx", "employed", "active", 7000, 900, "640100", "张家: 张伟的配偶"),
    ("640104195803150014", "张建国", "nx", "retired", "active", 0, 300, "640100",
     "张家: 张伟的父亲（640104 兴庆区设立于2002年，早于其号码所示出生年份）"),
    ("640106196008220025", "王秀兰", "nx", "retired", "active", 0, 150, "640100", "张家: 张伟的母亲"),
    ("640104200804010025", "张小雨", "nx", "employed", "active", 5000, 80, "640100", "张家: 张伟的女儿"),
    ("640302196201090512", "马海", "nx", "retired", "active", 0, 2600, "640200", "石嘴山退休人员"),
    ("640102199002280623", "王芳", "nx", "flexible", "arrears", 4000, 500, "640100", "灵活就业，欠费中"),
    ("150102198203050313", "刘强", "nm", "employed", "active", 9000, 2000, "150000", "刘家: 本人"),
    ("150105198407110428", "赵敏", "nm", "employed", "active", 8500, 1500, "150000", "刘家: 刘强的配偶"),
    ("150102195506180023", "孙秀英", "nm", "retired", "active", 0, 200, "150000", "刘家: 刘强的母亲"),
    ("150105198809230713", "巴特尔", "nm", "employed", "active", 7500, 600, "150000", "区本级在职职工"),
    ("150102195702120423", "乌云", "nm", "retired", "active", 0, 1800, "150000", "区本级退休人员"),
    ("150104199211300519", "高磊", "nm", "employed", "arrears", 6000, 300, "150000", "单位欠费中"),
)

# The status history the core system would have sent: 高磊's employer stopped paying after June 2026, so his
# visits up to then are paid and later ones are not (NM §13). Given once, when the person is first seeded.
DEMO_STATUS_HISTORY = {"150104199211300519": (("active", "2020-01-01"), ("arrears", "2026-07-01"))}
DEMO_PAID_THROUGH = {"150104199211300519": "2026-06"}  # everyone else: 2026-10

# 乌云 holds an Inner Mongolia chronic qualification (高血压, certified at NM-T-001), so the demo shows NM §11: her
# general visits get nothing from general pooling, and her caps, estimates and statements say why.
DEMO_QUALIFICATIONS = (("150102195702120423", "I10", "高血压", "NM-T-001", "2026-01-01"),)

# (code, name, kind, level, grade, region, is_chronic_certifier)
DEMO_INSTITUTIONS = (
    ("NM-T-001", "内蒙古自治区人民医院", "hospital", "tertiary", "甲", "nm", True),
    ("NM-S-001", "呼和浩特市第二医院", "hospital", "secondary", "甲", "nm", False),
    ("NM-C-001", "新城区社区卫生服务中心", "community_health_centre", "primary", None, "nm", False),
    ("NX-T-001", "宁夏医科大学总医院", "hospital", "tertiary", "甲", "nx", True),
    ("NX-S-001", "银川市第二人民医院", "hospital", "secondary", "甲", "nx", True),
    ("NX-P-001", "银川市兴庆区定点零售药店", "pharmacy", "primary", None, "nx", False),
)

# (username, display name, roles)
DEMO_STAFF = (
    ("reviewer1", "初审 王经办", ["first_reviewer"]),
    ("reviewer2", "复审 李经办", ["second_reviewer"]),
    ("leader1", "审签 赵科长", ["leader"]),
    ("agent1", "客服 陈坐席", ["agent"]),
    ("admin1", "系统管理员", ["admin"]),
)


def demo_secret(code: str) -> str:
    return f"demo-secret-{code}"


def seed() -> dict[str, int]:
    seed_parties()
    for row in DEMO_PEOPLE:
        record = _record(*row)
        if people.by_id_number(record.id_number) is None:
            for status, since in DEMO_STATUS_HISTORY.get(record.id_number, ()):
                people.upsert(replace(record, status=status, status_effective_from=dt.date.fromisoformat(since)))
        people.upsert(record)
    _seed_qualifications()
    db.session.commit()
    applications.seed()
    sharing.seed()
    settlements.seed_history()
    return {"people": len(DEMO_PEOPLE), "institutions": len(DEMO_INSTITUTIONS), "staff": len(DEMO_STAFF)}


def _seed_qualifications() -> None:
    for id_number, code, name, certifier, since in DEMO_QUALIFICATIONS:
        person = people.by_id_number(id_number)
        hospital = db.session.scalar(select(Institution).where(Institution.code == certifier))
        valid_from = dt.date.fromisoformat(since)
        if person is None or chronic.active_qualification(person.id, code, valid_from) is not None:
            continue
        db.session.add(ChronicQualification(person_id=person.id, disease_code=code, disease_name=name,
                                            certified_by_institution_id=hospital.id if hospital else None,
                                            valid_from=valid_from, valid_to=None, cap_adjustment_fen=0,
                                            status="active"))


def seed_parties() -> None:
    """Policies, institutions and staff only: what the signed API and the staff console need to be used."""
    policies.load_shipped()
    for row in DEMO_INSTITUTIONS:
        _upsert_institution(*row)
    for username, display_name, roles in DEMO_STAFF:
        staff_service.upsert(username, display_name, f"demo-{username}", roles)
    db.session.commit()


def _record(id_number, name, region, person_type, status, base_yuan, balance_yuan, pool, _family) -> PersonRecord:
    return PersonRecord(
        id_number=id_number, name=name, region=region, person_type=person_type, status=status,
        contribution_base_fen=base_yuan * 100, monthly_credit_fen=0, opening_balance_fen=balance_yuan * 100,
        contribution_paid_through=DEMO_PAID_THROUGH.get(id_number, "2026-10"), pool_code=pool,
    )


def _upsert_institution(code, name, kind, level, grade, region, certifier) -> None:
    institution = db.session.scalar(select(Institution).where(Institution.code == code))
    if institution is None:
        institution = Institution(code=code, secret=demo_secret(code))
        db.session.add(institution)
    institution.name, institution.kind, institution.level, institution.grade = name, kind, level, grade
    institution.region_code, institution.is_chronic_certifier = region, certifier
    institution.secret = demo_secret(code)
