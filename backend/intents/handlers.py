"""One handler per catalogue intent: the reply, made from the services (DESIGN §4.7, issue 6 §5).

Personal answers (balance, caps, applications, settlements, grants) come from the person's own data through
the services, and only for a signed-in person (``PERSONAL_INTENTS``; the dialogue shows a sign-in card first).
Policy answers (deductible, shares, caps, account uses, who may share) are generated from the policy version in
force for the person's region on today's date (``REGIONAL_INTENTS``); the templates carry no number.
The actions of the forms (grant, revoke, estimate) are here too, called by the dialogue when a form completes.
A service's refusal (an ``AppError``) is turned into a reply by the dialogue.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

from backend.domain.identity import mask_id_number
from backend.domain.money import fen_to_yuan, percent_label
from backend.domain.policy import CHRONIC, GENERAL, HOSPITAL_LEVELS, PerPersonType, Policy
from backend.domain.review import ReviewStatus
from backend.domain.sharing import RELATION_LABELS
from backend.intents import articles, replies
from backend.intents.replies import Reply
from backend.intents.types import Context, Message
from backend.services import accounts, applications, benefits, chronic, policies, settlements, sharing
from backend.services.benefits import LOCAL_ZONE

PERSONAL_INTENTS = frozenset({
    "sharing_grant", "sharing_revoke", "sharing_list", "account_balance", "account_history", "caps_remaining",
    "benefit_estimate", "reimbursement_status", "settlement_details",
})
# Answers about the signed-in person's own data: never about someone else's (followups.asks_about_someone_else).
ABOUT_THE_PERSON = frozenset({
    "account_balance", "account_history", "caps_remaining", "reimbursement_status", "settlement_details",
})
REGIONAL_INTENTS = frozenset({"benefit_policy", "account_policy", "policy_question", "account_contribution"})
CHANNEL = "chat"
Handler = Callable[[Message, Context], list[Reply]]


def answer(intent: str, message: Message, ctx: Context) -> list[Reply]:
    return ANSWERS[intent](message, ctx)


def sign_in_card(intent: str) -> Reply:
    what = replies.INTENT_LABELS[intent]
    return replies.card("sign_in", replies.SIGN_IN_TITLE, replies.SIGN_IN_BODY.format(what=what), intent=intent)


def _with_open_applications(handler: Handler) -> Handler:
    """Before applying again, a signed-in person hears which applications of theirs are still under way."""

    def answered(message: Message, ctx: Context) -> list[Reply]:
        lines = _open_application_lines(ctx)
        return handler(message, ctx) + ([replies.text("".join(lines))] if lines else [])

    return answered


def _static(*reply_texts: str, card: Reply | None = None) -> Callable[[Message, Context], list[Reply]]:
    def handler(message: Message, ctx: Context) -> list[Reply]:
        return [replies.text(body) for body in reply_texts] + ([card] if card else [])

    return handler


# --- the person's own data ---------------------------------------------------------------------------------------


def _year(ctx: Context) -> int:
    return ctx.year or ctx.today.year


def account_balance(message: Message, ctx: Context) -> list[Reply]:
    lines = [_balance_and_flows(accounts.summary(ctx.person_id, _year(ctx)))]
    return [replies.text("".join(lines + _received_lines(ctx) + _arrears_lines(ctx)))]


# --- the person's situation, where it changes an answer -----------------------------------------------------------


def _arrears_lines(ctx: Context) -> list[str]:
    if ctx.person_id is None or ctx.person.status != "arrears":
        return []
    return [replies.ARREARS_NOTE.format(region_rule=replies.ARREARS_RULES.get(ctx.person.region, ""))]


def _received_lines(ctx: Context) -> list[str]:
    """Who lets the person use their account: a father holding his son's grant is told so."""
    if ctx.person_id is None:
        return []
    received = _grant_views(ctx, "received")
    if not received:
        return []
    owners = replies.join(f"{view['owner']['name']}（{view['owner']['id_number_masked']}）" for view in received)
    return [replies.RECEIVED_NOTE.format(owners=owners)]


def _chronic_lines(ctx: Context) -> list[str]:
    if ctx.person_id is None:
        return []
    active = [q for q in chronic.qualifications_for(ctx.person_id) if q["status"] == "active"]
    if not active:
        return []
    lines = [replies.CHRONIC_QUALIFIED.format(diseases=replies.join(q["disease_name"] for q in active))]
    if _policy(ctx).benefits.chronic_excludes_general:
        lines.append(replies.CHRONIC_EXCLUDES_GENERAL)
    return lines


_OPEN_APPLICATION_STATUSES = frozenset({ReviewStatus.SUBMITTED, ReviewStatus.IN_REVIEW, ReviewStatus.RETURNED})


def _open_application_lines(ctx: Context) -> list[str]:
    if ctx.person_id is None:
        return []
    open_ones = [view for view in applications.list_for_person(ctx.person_id)
                 if view["status"] in _OPEN_APPLICATION_STATUSES]
    if not open_ones:
        return []
    return [replies.OPEN_APPLICATIONS.format(items=replies.join(
        f"{view['kind_label']}（{view['status_label']}）" for view in open_ones[:3]))]


def _balance_and_flows(summary: dict) -> str:
    flows = replies.YEAR_FLOWS.format(year=summary["year"], credits=summary["credits"], spending=summary["spending"])
    return replies.BALANCE.format(balance=summary["balance"]) + flows


def account_history(message: Message, ctx: Context) -> list[Reply]:
    entries, _ = accounts.entries(ctx.person_id, page_size=5)
    lines = [_balance_and_flows(accounts.summary(ctx.person_id, _year(ctx)))]
    lines += [_entry_line(entry) for entry in entries]
    card = replies.card("account_entries", replies.HISTORY_CARD_TITLE, replies.HISTORY_CARD_BODY,
                        path="/api/v1/account/entries")
    return [replies.text("\n".join(lines)), card]


def _entry_line(entry: dict) -> str:
    sign = "+" if entry["direction"] == "in" else "-"
    where = [entry["institution"]["name"]] if entry.get("institution") else []
    who = entry.get("by")
    if who and who.get("relation") != "self":
        where.insert(0, f"{who['relation_label']}{who['name'] or ''}使用")
    detail = f"（{'，'.join(where)}）" if where else ""
    return f"{_local_date(entry['occurred_at'])} {entry['kind_label']} {sign}{entry['amount']} 元{detail}"


def caps_remaining(message: Message, ctx: Context) -> list[Reply]:
    caps = benefits.caps(ctx.person_id, _year(ctx))
    lines = [
        replies.CAPS_INTRO.format(year=caps["year"], person_type=replies.PERSON_TYPE_LABELS[caps["person_type"]]),
        (replies.CAPS_DEDUCTIBLE_MET if caps["deductible"]["remaining"] == fen_to_yuan(0)
         else replies.CAPS_DEDUCTIBLE).format(**caps["deductible"]),
        *(replies.CAPS_LINE.format(label=replies.BUCKET_LABELS[bucket], **caps[bucket]) + (caps[bucket]["note"] or "")
          for bucket in (GENERAL, CHRONIC)),  # the note says why a bucket pays nothing now (NM §11–§13)
        replies.CAPS_COMBINED.format(**caps["combined"]),
        caps["sample"]["label"] or "",
    ]
    return [replies.text("".join(lines + _chronic_lines(ctx) + _arrears_lines(ctx)))]


_APPLICATION_ID = re.compile(r"(?<![0-9A-Za-z])(?:RB|PO|CA)[0-9A-Z]{22}(?![0-9A-Za-z])")


def reimbursement_status(message: Message, ctx: Context) -> list[Reply]:
    named = _APPLICATION_ID.search(message.text.upper())
    if named:
        return [replies.text(_application_line(applications.status_view(ctx.person_id, named.group(0))))]
    found = applications.list_for_person(ctx.person_id)
    if not found:
        return [replies.text(replies.APPLICATIONS_NONE)]
    lines = [replies.APPLICATIONS_INTRO] + [_application_line(view) for view in found[:3]]
    return [replies.text("\n".join(lines))]


def _application_line(view: dict) -> str:
    line = replies.APPLICATION_LINE.format(kind=view["kind_label"], application_id=view["application_id"],
                                           submitted=_local_date(view["submitted_at"]), status=view["status_label"])
    if view.get("current_step"):
        line += replies.APPLICATION_STEP.format(step=view["current_step"]["label"])
    if view.get("missing_materials"):
        missing = replies.join(material["label"] for material in view["missing_materials"])
        line += replies.APPLICATION_MISSING.format(materials=missing)
    return line + "。"


def settlement_details(message: Message, ctx: Context) -> list[Reply]:
    on_date = message.first("date")
    if on_date:
        year = int(on_date[:4])
        page = settlements.list_for_person(ctx.person_id, year=year, page_size=100)
        items = [item for item in page["items"] if item["visit_date"] == on_date]
        when, total = f"{on_date}", len(items)
    else:
        page = settlements.list_for_person(ctx.person_id, page_size=3)
        items, when, total = page["items"], "", page["total"]
    if not items:
        return [replies.text(replies.SETTLEMENTS_NONE.format(when=when))]
    lines = [replies.SETTLEMENTS_INTRO.format(when=when, total=total, shown=min(len(items), 3))]
    lines += [_settlement_line(item) for item in items[:3]]
    card = replies.card("settlements", replies.SETTLEMENTS_CARD_TITLE, replies.SETTLEMENTS_CARD_BODY,
                        path="/api/v1/settlements")
    return [replies.text("\n".join(lines)), card]


def _settlement_line(item: dict) -> str:
    return replies.SETTLEMENT_LINE.format(
        visit_date=item["visit_date"], institution=item["institution_name"], total=item["medfee_sumamt"],
        fund=item["hifp_pay"], account=item["acct_pay"], shared=item["acct_mulaid_pay"], cash=item["psn_cash_pay"],
        refunded=replies.SETTLEMENT_REFUNDED if item["status"] == "refunded" else "",
    ) + "。"


def sharing_list(message: Message, ctx: Context) -> list[Reply]:
    given = _grant_views(ctx, "given")
    received = _grant_views(ctx, "received")
    if not given and not received:
        return [replies.text(replies.GRANTS_NONE)]
    lines = []
    if given:
        lines.append(replies.GRANTS_GIVEN.format(items=replies.join(_grant_item(v, "relative") for v in given)))
    if received:
        lines.append(replies.GRANTS_RECEIVED.format(items=replies.join(_grant_item(v, "owner") for v in received)))
    return [replies.text("\n".join(lines))]


def _grant_views(ctx: Context, direction: str) -> list[dict]:
    return [sharing.grant_view(grant, ctx.person_id)
            for grant in sharing.list_grants(ctx.person_id, direction, status="active")]


def _grant_item(view: dict, party: str) -> str:
    who = view[party]
    return replies.GRANT_ITEM.format(relation=view["relation_label"] if party == "relative" else "",
                                     name=who["name"], id_masked=who["id_number_masked"],
                                     since=_local_date(view["granted_at"]))


def _local_date(moment: dt.datetime | str) -> str:
    if isinstance(moment, str):
        return moment[:10]
    return moment.astimezone(LOCAL_ZONE).date().isoformat()


# --- answers generated from the policy in force --------------------------------------------------------------


def _policy(ctx: Context) -> Policy:
    return policies.in_force(ctx.region, ctx.today)


def _topics(text: str, vocabulary: dict[str, re.Pattern]) -> set[str]:
    return {topic for topic, pattern in vocabulary.items() if pattern.search(text)}


_BENEFIT_TOPICS = {
    "deductible": re.compile(r"起付|门槛|免赔|起报|自付多少才"),
    "shares": re.compile(r"比例|报多少|报几成|几成|百分之|%|能报|报销多少|报销比|报百分"),
    "caps": re.compile(r"限额|封顶|最多|上限|最高|额度"),
}
_CHRONIC_WORDS = re.compile(r"慢特病|慢病|慢性病|特殊病|特病|两病")


def benefit_policy(message: Message, ctx: Context) -> list[Reply]:
    policy = _policy(ctx)
    topics = _topics(message.text, _BENEFIT_TOPICS) or set(_BENEFIT_TOPICS)
    buckets = (CHRONIC,) if _CHRONIC_WORDS.search(message.text) else (GENERAL, CHRONIC)
    levels = tuple(message.values("hospital_level")) or HOSPITAL_LEVELS
    only = ctx.person_type
    rules = policy.benefits
    lines = [policy.label + "："]
    if "deductible" in topics:
        lines.append(replies.DEDUCTIBLE.format(amounts=_per_type_yuan(rules.deductible.amount_fen, only)))
        shared = [replies.BUCKET_LABELS[b] for b in (GENERAL, CHRONIC) if b in rules.deductible.buckets]
        if len(shared) > 1:
            lines.append(replies.DEDUCTIBLE_SHARED.format(buckets="和".join(shared)))
    if "shares" in topics:
        for bucket in buckets:
            share = rules.bucket(bucket).share_bp
            per_level = "；".join(
                f"{replies.LEVEL_LABELS[level]} {_per_type(share.of(level), only, percent_label)}" for level in levels
            )
            lines.append(replies.SHARES.format(bucket=replies.BUCKET_LABELS[bucket], levels=per_level))
    if "caps" in topics:
        for bucket in buckets:
            amounts = _per_type_yuan(rules.bucket(bucket).cap_fen, only)
            lines.append(replies.CAP.format(bucket=replies.BUCKET_LABELS[bucket], amounts=amounts))
        scope = (replies.COMBINED_SCOPE_WITH_GENERAL if rules.general.counts_toward_combined_cap
                 else replies.COMBINED_SCOPE_WITHOUT_GENERAL)
        lines.append(replies.COMBINED_CAP.format(scope=scope, amounts=_per_type_yuan(rules.combined_cap_fen, only)))
    if rules.chronic_excludes_general:
        lines.append(replies.CHRONIC_EXCLUDES_GENERAL)
    if policy.sample:
        lines.append(replies.POLICY_SAMPLE)
    if ctx.region == ctx.own_region:
        lines += _chronic_lines(ctx) + _arrears_lines(ctx)
    return [replies.text("".join(lines))]


_ACCOUNT_TOPICS = {
    "sharing": re.compile(r"共济|家人|家属|亲属|给谁|谁能用|谁可以用|授权|父母|爸|妈|配偶|老婆|老公|子女|孩子|兄弟|姐妹"),
    "credits": re.compile(r"划入|划拨|划多少|每月|每个月|入账|打多少|进多少|怎么划|按多少|划到"),
    "uses": re.compile(r"支付|能买|可以买|能用|可以用|用途|用于|花|报销|药店|缴费|不能"),
}


def account_policy(message: Message, ctx: Context) -> list[Reply]:
    policy = _policy(ctx)
    topics = _topics(message.text, _ACCOUNT_TOPICS) or {"uses", "sharing"}
    if message.values("relation"):  # 我老伴能用我的卡吗: who may share, whatever else it asks
        topics.add("sharing")
    account = policy.account
    lines = [policy.label + "："]
    if "uses" in topics:
        lines.append(replies.ACCOUNT_USES.format(uses=replies.join(label for _, label in account.allowed_uses)))
        if account.excluded_uses:
            excluded = replies.join(label for _, label in account.excluded_uses)
            lines.append(replies.ACCOUNT_EXCLUDED.format(uses=excluded))
    if "sharing" in topics:
        in_region = replies.SHARING_IN_REGION if policy.sharing.relative_insured_in_region_only else ""
        lines.append(replies.SHARING_RELATIONS.format(relations=replies.join(allowed_relations(ctx).values()),
                                                      in_region=in_region))
    if "credits" in topics:
        lines += _credit_lines(policy, ctx.person_type)
    if policy.sample:
        lines.append(replies.POLICY_SAMPLE)
    if "sharing" in topics and ctx.region == ctx.own_region:
        lines += _received_lines(ctx)
    return [replies.text("".join(lines))]


# Questions whose answer is settled whatever the article retrieved says around it.
_SETTLED_QUESTIONS = (
    (re.compile(r"套现|取现|提现|变现|换成现金|取出来|兑现"), replies.NO_CASH_OUT),
)


def account_contribution(message: Message, ctx: Context) -> list[Reply]:
    """NM §4, NX §6 and §31: the account may pay relatives' 居民医保 and 长护险 / 大额 contributions."""
    policy = _policy(ctx)
    lines = [policy.label + "：", replies.CONTRIBUTION_USES.format(region=replies.REGION_LABELS[ctx.region])]
    lines += _arrears_lines(ctx) if ctx.region == ctx.own_region else []
    card = replies.card("account_contribution", replies.CONTRIBUTION_CARD_TITLE, replies.CONTRIBUTION_CARD_BODY,
                        path="/api/v1/account/contributions")
    return [replies.text("".join(lines)), card]


def policy_question(message: Message, ctx: Context) -> list[Reply]:
    """A policy question no other answer covers: the best matching article of the region's document, cited."""
    topic = next((answer for pattern, answer in _SETTLED_QUESTIONS if pattern.search(message.text)), None)
    found = articles.best(ctx.region, message.text)
    if found is None:
        return [replies.text(topic or replies.POLICY_UNKNOWN)]
    lines = ([topic] if topic else []) + [replies.POLICY_ARTICLE.format(citation=found.citation,
                                                                       text=found.excerpt())]
    return [replies.text("\n".join(lines))]


def _credit_lines(policy: Policy, person_type: str | None) -> list[str]:
    account = policy.account
    lines = []
    if person_type in (None, "employed"):
        lines.append(replies.CREDIT_EMPLOYED.format(ratio=percent_label(account.employed_credit_ratio_bp)))
    if person_type in (None, "flexible"):
        template = (replies.CREDIT_FLEXIBLE_LUMP_SUM if account.flexible_credit.timing == "lump_sum"
                    else replies.CREDIT_FLEXIBLE_MONTHLY)
        lines.append(template.format(ratio=percent_label(account.flexible_credit.ratio_bp)))
    if person_type in (None, "retired"):
        retiree = account.retiree_credit
        lines.append(replies.CREDIT_RETIRED.format(amount=fen_to_yuan(retiree.monthly_fen),
                                                   base_label=retiree.base_label,
                                                   ratio=percent_label(retiree.ratio_bp)))
    return lines


def _per_type(values: PerPersonType, only: str | None, label: Callable[[int], str]) -> str:
    """One person type's value for a signed-in person; employed and retired (and flexible if different) else."""
    if only is not None:
        return label(values.of(only))
    kinds = ["employed", "retired"] + (["flexible"] if values.flexible != values.employed else [])
    return "，".join(f"{replies.PERSON_TYPE_LABELS[kind]} {label(values.of(kind))}" for kind in kinds)


def _per_type_yuan(values: PerPersonType, only: str | None) -> str:
    return _per_type(values, only, lambda fen: f"{fen_to_yuan(fen)} 元")


# --- actions of the forms ----------------------------------------------------------------------------------------


def allowed_relations(ctx: Context) -> dict[str, str]:
    """Relations the policy in force lets the person authorise: code → Chinese label, in the usual order."""
    allowed = _policy(ctx).sharing.relations
    return {code: label for code, label in RELATION_LABELS.items() if code in allowed}


def relation_label(relation: str) -> str:
    return RELATION_LABELS.get(relation, relation)


def grant_confirmation(slots: dict, ctx: Context) -> Reply:
    _, promise = sharing.promise_text(ctx.region, ctx.today)
    prompt = replies.GRANT_CONFIRM.format(promise=promise, relation=relation_label(slots["relation"]),
                                          name=slots["name"], id_masked=mask_id_number(slots["id_number"]))
    return replies.choices(prompt, replies.AGREE_CHOICES)


def make_grant(ctx: Context, *, relation: str, name: str, id_number: str) -> list[Reply]:
    grant = sharing.grant(ctx.person_id, relative_name=name, relative_id_number=id_number, relation=relation,
                          promise_accepted=True, channel=CHANNEL)
    view = sharing.grant_view(grant, ctx.person_id)
    return [replies.text(replies.GRANT_DONE.format(relation=view["relation_label"], name=view["relative"]["name"],
                                                   id_masked=view["relative"]["id_number_masked"]))]


def revocable_grants(ctx: Context) -> list[dict]:
    """The person's active given grants as choice options (masked: nothing here needs the full ID number)."""
    options = []
    for view in _grant_views(ctx, "given"):
        relative = view["relative"]
        options.append({
            "value": view["grant_id"],
            "label": f"{view['relation_label']} {relative['name']}（{relative['id_number_masked']}）",
            "relation": view["relation"], "relation_label": view["relation_label"],
            "name": relative["name"], "id_masked": relative["id_number_masked"],
        })
    return options


def revoke_grant(ctx: Context, option: dict) -> list[Reply]:
    sharing.revoke(ctx.person_id, option["value"], channel=CHANNEL)
    return [replies.text(replies.REVOKE_DONE.format(relation=option["relation_label"], name=option["name"]))]


def estimate(ctx: Context, *, amount_fen: int, level: str) -> list[Reply]:
    result = benefits.estimate(ctx.person_id, amount_fen, level, ctx.today)
    policy_label = policies.in_force(ctx.region, ctx.today).label
    summary = replies.ESTIMATE_RESULT.format(
        policy_label=policy_label, level=replies.LEVEL_LABELS[level], amount=fen_to_yuan(amount_fen),
        fund=result["hifp_pay"], account=result["acct_pay"], cash=result["psn_cash_pay"],
    )
    sample = [result["sample"]["label"]] if result["sample"]["is_sample"] else []
    return [replies.text("\n".join([summary, *result["explanation"], *sample, replies.ESTIMATE_NOTE]))]


ANSWERS: dict[str, Callable[[Message, Context], list[Reply]]] = {
    "greeting": _static(replies.GREETING),
    "goodbye": _static(replies.GOODBYE),
    "out_of_scope": _static(replies.OUT_OF_SCOPE),
    "sharing_list": sharing_list,
    "account_balance": account_balance,
    "account_history": account_history,
    "account_policy": account_policy,
    "account_payout": _with_open_applications(_static(replies.ACCOUNT_PAYOUT, card=replies.card(
        "payout_apply", replies.PAYOUT_CARD_TITLE, replies.PAYOUT_CARD_BODY, path="/api/v1/payouts"))),
    "account_transfer": _static(replies.ACCOUNT_TRANSFER),
    "caps_remaining": caps_remaining,
    "benefit_policy": benefit_policy,
    "reimbursement_apply": _with_open_applications(_static(replies.REIMBURSEMENT_APPLY, card=replies.card(
        "reimbursement_apply", replies.REIMBURSEMENT_CARD_TITLE, replies.REIMBURSEMENT_CARD_BODY,
        path="/api/v1/reimbursements"))),
    "reimbursement_materials": _static(replies.REIMBURSEMENT_MATERIALS),
    "reimbursement_status": reimbursement_status,
    "settlement_details": settlement_details,
    "chronic_certification": _static(replies.CHRONIC_CERTIFICATION),
    "chronic_cap_adjust": _static(replies.CHRONIC_CAP_ADJUST),
    "offsite_care": _static(replies.OFFSITE_CARE),
    "account_contribution": account_contribution,
    "policy_question": policy_question,
}
