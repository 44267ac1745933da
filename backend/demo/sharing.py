"""Demo family sharing: the grants of the README's families and two months of account credits."""

from __future__ import annotations

from backend.services import credits, people, sharing
from backend.services.credits import local_today

DEMO_CREDIT_PERIODS = ("2026-09", "2026-10")  # the demo people have paid through 2026-10
DEMO_GRANTS = (  # (owner ID, relative ID, relative name, relation): the families listed in README
    ("640104198506120314", "640104195803150014", "张建国", "father"),
    ("150102198203050313", "150102195506180023", "孙秀英", "mother"),
)


def seed() -> int:
    """Demo grants (README families) and two months of credits; safe to run again. Each use case commits."""
    made = 0
    for owner_id_number, relative_id_number, relative_name, relation in DEMO_GRANTS:
        owner = people.by_id_number(owner_id_number)
        relative = people.by_id_number(relative_id_number)
        if owner is None or relative is None or relative.id in {g.relative_person_id
                                                                for g in sharing.active_given(owner.id)}:
            continue
        sharing.grant(owner.id, relative_name=relative_name, relative_id_number=relative_id_number,
                      relation=relation, promise_accepted=True, channel="app")
        made += 1
    this_month = credits.month_of(local_today())
    for period in DEMO_CREDIT_PERIODS:
        if period <= this_month:
            credits.allocate(period)
    return made
