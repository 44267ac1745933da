"""What a message means given the conversation so far: elliptical follow-ups, two questions in one, and
questions about someone else's data.

- A follow-up ("那我妈呢？", "二级呢？", "那退休的呢", "那去年呢", "那内蒙古呢") is short, elliptical (那… /
  …呢) and brings a new relation, hospital level, person type, year or region: the previous question is asked
  again with it. "需要啥材料" after a payout answer asks for the payout's materials, not reimbursement's.
- Two questions joined by 顺便 / 另外 / 还有 … are understood separately and both answered.
- "把我爸的余额告诉我": a personal answer is about the signed-in person only; the bot says why it will not
  answer about another person.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from backend.domain.identity import redact_id_numbers
from backend.intents import handlers, nlu, replies, vocabulary
from backend.intents.replies import Reply
from backend.intents.types import Context, Message, State

# Questions worth carrying over: the previous question is remembered only for these.
_CARRIED = frozenset({
    "benefit_policy", "account_policy", "caps_remaining", "account_balance", "account_history",
    "settlement_details", "offsite_care", "sharing_grant", "sharing_list", "account_payout", "account_transfer",
    "chronic_certification", "chronic_cap_adjust", "reimbursement_apply", "account_contribution",
    "policy_question", "benefit_estimate",
})
_ELLIPTICAL = re.compile(r"^(?:那|那么|那要是|要是|如果是|换成|换作)|(?:呢|咋样|怎么样|如何|又是多少|是多少|呢吗)$")
_MAX_FOLLOW_UP = 14  # characters: a longer message says enough to be understood on its own
_MATERIALS = re.compile(r"材料|资料|手续|证件|带什么|带啥|准备什么|准备啥|要什么东西|需要什么|需要啥|要啥")
# Intents whose own answer lists their materials: a bare materials question after them is about them.
_HAS_OWN_MATERIALS = frozenset({
    "account_payout", "account_transfer", "chronic_certification", "chronic_cap_adjust", "offsite_care",
    "account_contribution", "sharing_grant",
})


_FORMS = frozenset({"sharing_grant", "sharing_revoke", "benefit_estimate"})


@dataclass(frozen=True)
class FollowUp:
    intent: str
    message: Message
    region: str | None = None
    person_type: str | None = None
    year: int | None = None
    refusal: Reply | None = None


def remember(state: State, intent: str, message: Message) -> None:
    state.last = ({"intent": intent, "text": redact_id_numbers(message.text)} if intent in _CARRIED else None)


def follow_up(state: State, message: Message, ctx: Context) -> FollowUp | None:
    last = state.last
    if last is None or message.nlu is None:
        return None
    words = vocabulary.plain(message.text)
    if last["intent"] in _HAS_OWN_MATERIALS and _MATERIALS.search(words) and not re.search(r"报销|报账", words):
        return FollowUp(last["intent"], Message.reread(last["text"] + " 需要什么材料", ctx.today))
    if len(words) > _MAX_FOLLOW_UP or not _ELLIPTICAL.search(words):
        return None
    region = vocabulary.region_in(message.text)
    person_type = vocabulary.person_type_in(message.text)
    year = vocabulary.year_in(message.text, ctx.today)
    new_types = {entity.type for entity in message.entities} & {"relation", "hospital_level"}
    if not (region or person_type or year or new_types):
        return None
    intent = last["intent"]
    # A form starts afresh with the new entity (那我老婆呢 after a grant for 妈妈 must not keep 妈妈's name).
    merged = message if intent in _FORMS else _merged(last["text"], message, ctx.today)
    if "relation" in new_types and intent in handlers.ABOUT_THE_PERSON:
        return FollowUp(intent, merged, refusal=someone_elses_data(intent, message))
    return FollowUp(intent, merged, region, person_type, year)


def _merged(previous: str, message: Message, today: dt.date) -> Message:
    """The previous question with the entities the follow-up replaces taken out, then the follow-up's words."""
    replaced = {entity.type for entity in message.entities}
    old = Message.reread(previous, today)
    kept, position = [], 0
    for entity in old.entities:
        if entity.type in replaced:
            kept.append(previous[position:entity.start])
            position = entity.end
    kept.append(previous[position:])
    return Message.reread("".join(kept) + "，" + message.text, today)


# --- two questions in one message ----------------------------------------------------------------------------------

_JOINS = re.compile(r"[，,。.；;！!？?\s]*(?:顺便(?:再)?(?:问问|问一下|问下|说说|查查|查一下|看看)?|另外(?:再)?(?:问一下|问下)?|"
                    r"还有(?:就是)?(?=.{4,})|还想问(?:一下|问)?|再问(?:一下|问|下)?|以及|同时|并且|然后再?|对了)"
                    r"|(?<=[？?。；;])")
_SINGLE = frozenset({nlu.OUT_OF_SCOPE, "greeting", "goodbye", "handoff_human"})


def several_questions(message: Message, today: dt.date, confident_at: float) -> list[Message]:
    """The parts of a message asking two (or three) different things, each understood; [] for one question."""
    pieces = [piece for piece in _JOINS.split(message.text) if piece and len(vocabulary.plain(piece)) >= 2]
    if len(pieces) < 2:
        return []
    understood = [Message.understood(nlu.understand(piece, today)) for piece in pieces[:3]]
    intents = [part.nlu.intent for part in understood]
    sure = all(not part.nlu.is_ambiguous and part.nlu.confidence >= confident_at for part in understood)
    if not sure or _SINGLE & set(intents) or len(set(intents)) < len(intents):
        return []
    return understood


# --- someone else's data ---------------------------------------------------------------------------------------------

_OTHERS = re.compile(r"他的|她的|别人的|人家的|对方的")


def asks_about_someone_else(message: Message) -> bool:
    """我爸的余额 / 帮我妈查 / 她的额度 — but not 我给我爸开的共济 (the person's own grants)."""
    if _OTHERS.search(message.text):
        return True
    for entity in message.entities:
        if entity.type != "relation":
            continue
        after = message.text[entity.end : entity.end + 1]
        before = message.text[max(entity.start - 2, 0) : entity.start]
        if after == "的" or re.search(r"[帮替查看]我?$", before):
            return True
    return False


def someone_elses_data(intent: str, message: Message) -> Reply:
    relation = next((entity.text for entity in message.entities if entity.type == "relation"), "其他人")
    what = replies.INTENT_LABELS[intent].removeprefix("查询").removeprefix("查看")
    return replies.text(replies.OTHERS_DATA_REFUSED.format(relation=relation, what=what))
