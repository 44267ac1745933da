"""Family sharing of the individual account (家庭共济, NX §6–§7, §12): grant, revoke, grant again, list.

Each public function that changes something is one transaction and commits. Grants take effect at once (NX §6):
``accounts.pay_from_accounts`` reads the active grants at the moment of each payment, so the very next payment
sees a grant or a revoke. Who may be authorised comes from the policy version in force (``policy.sharing``),
checked by ``backend.domain.sharing.check_grant``. Online the owner accepts the 承诺书 text shown by
``promise_text``; at the counter the signed paper is scanned (NX §7). Both parties are notified; every grant and
revoke is audited.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from backend.domain.identity import mask_id_number
from backend.domain.sharing import RELATION_LABELS, RefusalReason, SharingRefused, check_grant
from backend.domain.sharing import PersonSnapshot as SharingPerson
from backend.errors import Conflict, NotFound, Unprocessable
from backend.extensions import db
from backend.models import IndividualAccount, Person, PlatformBinding, SharingGrant, new_public_id, utcnow
from backend.models.sharing import GRANT_CHANNELS
from backend.services import audit, files, identity, locks, notifications, people, policies
from backend.services.credits import local_today

# Reasons that are a conflict with the current state (409); every other refusal is bad input (422).
CONFLICT_REASONS = frozenset({RefusalReason.ALREADY_GRANTED})
PROMISE_TEXT_EDITION = "1"  # bump when the wording below changes; the version also names the policy version
PROMISE_TEMPLATE = (
    "承诺书\n"
    "本人承诺与被授权人为{relations}关系，自愿将本人职工医保个人账户授权其家庭共济使用"
    "（可用于其在{region_scope}定点医疗机构、定点零售药店发生的由个人负担的费用，以及按规定缴纳其居民医保、"
    "长期护理保险个人缴费），并可随时解除授权；授权、解除授权即时生效。\n"
    "以上内容所述信息真实、准确、完整、有效，由此产生的一切法律责任由本人承担。"
)
REGION_SCOPES = {"nx": "自治区范围内", "nm": "自治区本级统筹区内"}


def promise_text(region: str, on_date: dt.date) -> tuple[str, str]:
    """The 承诺书 (NX §7 and its appendix) a person accepts before granting: (version, text).

    The text names the relations the policy version in force allows, so its version names that policy version.
    """
    policy = policies.in_force(region, on_date)
    relations = "、".join(RELATION_LABELS[r] for r in sorted(policy.sharing.relations, key=_relation_order))
    text = PROMISE_TEMPLATE.format(relations=f"（{relations}）之一的", region_scope=REGION_SCOPES[region])
    return f"{policy.version}/{PROMISE_TEXT_EDITION}", text


def promise_for(person_id: int) -> dict[str, Any]:
    """What the mini-program shows before granting: the 承诺书 of the person's region today and who may be named."""
    region, today = people.get(person_id).region_code, local_today()
    version, text = promise_text(region, today)
    relations = sorted(policies.in_force(region, today).sharing.relations, key=_relation_order)
    return {"version": version, "text": text,
            "relations": [{"code": r, "label": RELATION_LABELS[r]} for r in relations]}


def grant(owner_person_id: int, *, relative_name: str, relative_id_number: str, relation: str,
          promise_accepted: bool, channel: str, staff_id: int | None = None,
          signed_promise_path: str | None = None) -> SharingGrant:
    """Authorise a relative to use the owner's account, effective at once. Commits.

    422 promise_not_accepted / id_number_invalid / relative_not_found / self_grant / relation_not_allowed /
    relation_age_implausible / relation_sex_mismatch / relative_not_insured / different_region / account_closed;
    409 already_granted.
    """
    _check_channel(channel)
    if not promise_accepted:
        raise Unprocessable("请先阅读并同意《承诺书》", reason="promise_not_accepted")
    owner = people.get(owner_person_id)
    relative_id_number = identity.checked_id_number(relative_id_number, "被授权人")
    if relative_id_number == owner.id_number:
        _refuse(SharingRefused(RefusalReason.SELF_GRANT))
    relative = _matching_relative(relative_name, relative_id_number)
    _require_open_account(owner)
    today = local_today()
    policy = policies.in_force(owner.region_code, today)
    try:
        check_grant(_snapshot(owner), _snapshot(relative), relation, policy.sharing.relations,
                    frozenset(g.relative_person_id for g in active_given(owner.id)))
    except SharingRefused as refusal:
        _refuse(refusal)
    promise_version, _ = promise_text(owner.region_code, today)
    now = utcnow()
    record = SharingGrant(
        id=new_public_id("SG"), owner_person_id=owner.id, relative_person_id=relative.id, relation=relation,
        status="active", channel=channel, policy_version_code=policy.version,
        promise_text_version=promise_version, promise_accepted_at=now, signed_promise_path=signed_promise_path,
        granted_by_staff_id=staff_id, granted_at=now,
    )
    db.session.add(record)
    _audit("sharing.grant", record, staff_id, channel=channel, relation=relation,
           promise_text_version=promise_version, signed_promise_path=signed_promise_path)
    _notify_granted(record, owner, relative)
    try:
        db.session.commit()
    except IntegrityError:  # a concurrent identical grant won the race: the partial unique index said so
        db.session.rollback()
        _refuse(SharingRefused(RefusalReason.ALREADY_GRANTED))
    return record


def revoke(owner_person_id: int, grant_id: str, *, channel: str, staff_id: int | None = None,
           signed_promise_path: str | None = None) -> SharingGrant:
    """End a grant, effective for the very next payment. Another person's grant is 404. Commits."""
    _check_channel(channel)
    record = next(iter(locks.grants(SharingGrant.id == grant_id)), None)
    if record is None or record.owner_person_id != owner_person_id:
        raise NotFound("未找到该授权", reason="grant_not_found")
    if record.status != "active":
        raise Conflict("该授权已解除", reason="grant_not_active")
    # The guarantee (docs/reliability.md): a payment drawing on this account holds its lock until it commits, so
    # taking the lock here waits for payments in flight; a payment starting later re-reads the grant under the
    # same lock and sees it ended. Once the owner is told "revoked", no payment draws on the grant.
    locks.accounts(_account_ids_of([record.owner_person_id]))
    _end(record, channel=channel, staff_id=staff_id)
    record.revoke_signed_promise_path = signed_promise_path
    _audit("sharing.revoke", record, staff_id, channel=channel, signed_promise_path=signed_promise_path)
    db.session.commit()
    return record


def grant_at_counter(staff_id: int, *, owner_id_number: str, relative_name: str, relative_id_number: str,
                     relation: str, promise_filename: str, promise_bytes: bytes) -> SharingGrant:
    """A grant made by agency staff on the owner's behalf, with the signed paper 承诺书 scanned (NX §7). Commits."""
    owner = _owner_at_counter(owner_id_number)
    stored = files.store_upload(promise_filename, promise_bytes)
    return grant(owner.id, relative_name=relative_name, relative_id_number=relative_id_number, relation=relation,
                 promise_accepted=True, channel="counter", staff_id=staff_id,
                 signed_promise_path=stored.storage_path)


def revoke_at_counter(staff_id: int, grant_id: str, *, owner_id_number: str, promise_filename: str,
                      promise_bytes: bytes) -> SharingGrant:
    """A revoke at the counter: the owner shows their ID and signs the 承诺书 again (NX §7). Commits."""
    owner = _owner_at_counter(owner_id_number)
    stored = files.store_upload(promise_filename, promise_bytes)
    return revoke(owner.id, grant_id, channel="counter", staff_id=staff_id, signed_promise_path=stored.storage_path)


def grants_at_counter(id_number: str) -> tuple[Person, list[SharingGrant]]:
    """Everything a person gave and received, for the counter clerk (newest first)."""
    person = _owner_at_counter(id_number)
    given, received = list_grants(person.id, "given"), list_grants(person.id, "received")
    return person, sorted(given + received, key=lambda g: (g.granted_at, g.id), reverse=True)


def end_all_of(person_id: int, *, channel: str, staff_id: int | None, why: str) -> int:
    """End every active grant the person gave or received (their account closed). No commit; returns how many."""
    records = locks.grants(
        SharingGrant.status == "active",
        (SharingGrant.owner_person_id == person_id) | (SharingGrant.relative_person_id == person_id),
    )
    for record in records:
        _end(record, channel=channel, staff_id=staff_id)
        _audit("sharing.revoke", record, staff_id, channel=channel, why=why)
    return len(records)


def _account_ids_of(person_ids: list[int]) -> list[int]:
    return list(db.session.scalars(select(IndividualAccount.id).where(IndividualAccount.person_id.in_(person_ids))))


def get_for_person(person_id: int, grant_id: str) -> SharingGrant:
    """A grant the person gave or received; anyone else's is 404."""
    record = db.session.get(SharingGrant, grant_id)
    if record is None or person_id not in (record.owner_person_id, record.relative_person_id):
        raise NotFound("未找到该授权", reason="grant_not_found")
    return record


def list_grants(person_id: int, direction: str, *, status: str | None = None) -> list[SharingGrant]:
    """Grants the person gave ("given") or received ("received"), newest first; revoked ones too unless filtered."""
    column = {"given": SharingGrant.owner_person_id, "received": SharingGrant.relative_person_id}.get(direction)
    if column is None:
        raise Unprocessable("direction 应为 given 或 received", reason="direction_invalid")
    query = select(SharingGrant).where(column == person_id)
    if status is not None:
        query = query.where(SharingGrant.status == status)
    return list(db.session.scalars(query.order_by(SharingGrant.granted_at.desc(), SharingGrant.id.desc())))


def grant_view(grant: SharingGrant, viewer_person_id: int) -> dict[str, Any]:
    """What the API shows about a grant to one of its two parties; ID numbers masked."""
    owner, relative = db.session.get(Person, grant.owner_person_id), db.session.get(Person, grant.relative_person_id)
    return {
        "grant_id": grant.id,
        "status": grant.status,
        "direction": "given" if viewer_person_id == grant.owner_person_id else "received",
        "relation": grant.relation,
        "relation_label": RELATION_LABELS.get(grant.relation, grant.relation),
        "owner": _party(owner),
        "relative": _party(relative),
        "channel": grant.channel,
        "granted_at": grant.granted_at,
        "granted_at_counter": grant.granted_by_staff_id is not None,
        "promise_text_version": grant.promise_text_version,
        "promise_accepted_at": grant.promise_accepted_at,
        "policy_version": grant.policy_version_code,
        "revoked_at": grant.revoked_at,
        "revoke_channel": grant.revoke_channel,
    }


def default_channel(person_id: int) -> str:
    """The platform a person uses when the request does not say: the one they are bound on, if only one; else app."""
    bound = set(db.session.scalars(select(PlatformBinding.platform).where(PlatformBinding.person_id == person_id)))
    return bound.pop() if len(bound) == 1 else "app"


def relation_between(owner_person_id: int, relative_person_id: int) -> str | None:
    """The relation stated in the most recent grant from owner to relative (for the owner's journal)."""
    return db.session.scalar(
        select(SharingGrant.relation)
        .where(SharingGrant.owner_person_id == owner_person_id, SharingGrant.relative_person_id == relative_person_id)
        .order_by(SharingGrant.granted_at.desc()).limit(1)
    )


# --- helpers -----------------------------------------------------------------------------------------------------
def _check_channel(channel: str) -> None:
    if channel not in GRANT_CHANNELS:
        raise ValueError(f"unknown channel {channel!r}")


def _owner_at_counter(id_number: str) -> Person:
    owner = people.by_id_number(identity.checked_id_number(id_number, "参保人"))
    if owner is None:
        raise Unprocessable("未查询到该参保人", reason="owner_not_found")
    return owner


def _matching_relative(name: str, id_number: str) -> Person:
    relative = people.by_id_number(id_number)
    # One answer for "unknown" and "wrong name": the pair is what is checked, as at binding.
    if relative is None or relative.name != name.strip():
        raise Unprocessable("被授权人姓名与身份证号码不匹配，或未查询到其职工医保参保信息",
                            reason="relative_not_found")
    return relative


def _require_open_account(owner: Person) -> None:
    account = db.session.scalar(select(IndividualAccount).where(IndividualAccount.person_id == owner.id))
    if account is None or account.status != "open":
        raise Unprocessable("您的个人账户已关闭，无法授权共济", reason="account_closed")


def _snapshot(person: Person) -> SharingPerson:
    return SharingPerson(person_id=person.id, region=person.region_code, status=person.status,
                         id_number=person.id_number)


def _refuse(refusal: SharingRefused) -> None:
    error = Conflict if refusal.reason in CONFLICT_REASONS else Unprocessable
    raise error(refusal.message, reason=str(refusal.reason))


def active_given(owner_person_id: int) -> list[SharingGrant]:
    return list(db.session.scalars(select(SharingGrant).where(
        SharingGrant.owner_person_id == owner_person_id, SharingGrant.status == "active")))


def _end(record: SharingGrant, *, channel: str, staff_id: int | None) -> None:
    record.status, record.revoked_at = "revoked", utcnow()
    record.revoke_channel, record.revoked_by_staff_id = channel, staff_id
    owner, relative = db.session.get(Person, record.owner_person_id), db.session.get(Person, record.relative_person_id)
    label = RELATION_LABELS.get(record.relation, record.relation)
    data = {"grant_id": record.id}
    notifications.notify(owner.id, "sharing_revoked", "家庭共济授权已解除",
                         f"您对{label}{relative.name}的个人账户共济授权已解除，即时生效。",
                         dedupe_key=f"sharing.revoked:{record.id}", data=data)
    notifications.notify(relative.id, "sharing_revoked", "家庭共济授权已解除",
                         f"{owner.name}已解除对您的个人账户共济授权，即时生效。",
                         dedupe_key=f"sharing.revoked:{record.id}", data=data)


def _notify_granted(record: SharingGrant, owner: Person, relative: Person) -> None:
    label = RELATION_LABELS.get(record.relation, record.relation)
    data = {"grant_id": record.id}
    notifications.notify(owner.id, "sharing_granted", "家庭共济授权成功",
                         f"您已授权{label}{relative.name}共济使用您的个人账户，即时生效，可随时解除。",
                         dedupe_key=f"sharing.granted:{record.id}", data=data)
    notifications.notify(relative.id, "sharing_granted", "您获得了家庭共济授权",
                         f"{owner.name}已授权您共济使用其个人账户：您本人账户余额不足时，将依次使用授权人的账户。",
                         dedupe_key=f"sharing.granted:{record.id}", data=data)


def _audit(action: str, record: SharingGrant, staff_id: int | None, **details: Any) -> None:
    actor_kind, actor_id = ("staff", staff_id) if staff_id is not None else ("person", record.owner_person_id)
    audit.record(actor_kind, actor_id, action, "sharing_grant", record.id, owner_person_id=record.owner_person_id,
                 relative_person_id=record.relative_person_id,
                 **{key: value for key, value in details.items() if value is not None})


def _party(person: Person) -> dict[str, str]:
    return {"name": person.name, "id_number_masked": mask_id_number(person.id_number)}


def _relation_order(relation: str) -> int:
    return list(RELATION_LABELS).index(relation)
