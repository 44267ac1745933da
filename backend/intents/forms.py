"""The forms of the dialogue: sharing_grant, sharing_revoke, benefit_estimate — their slots, readers and actions.

- ``sharing_grant``: relation → name → ID number → the 承诺书 and a confirmation. A name must look like one
  (2–6 hanzi, or a minority name with ·, and not a word of the conversation: 同意 is not a name); an ID number
  must be checksum-valid and, when the service knows the person, belong to the name given.
- ``sharing_revoke``: which grant → confirmation.
- ``benefit_estimate``: amount → hospital level.
"""

from __future__ import annotations

import re

from backend.domain.identity import InvalidIdNumber, validate_id_number
from backend.domain.money import yuan_to_fen
from backend.intents import handlers, replies, vocabulary
from backend.intents.entities import starts_with_surname, to_halfwidth
from backend.intents.form_engine import Declined, Filled, Form, Invalid, Reading, Slot
from backend.intents.nlu import OUT_OF_SCOPE
from backend.intents.replies import Reply
from backend.intents.types import Context, FormState, Message
from backend.services import people

# A message the NLU is this sure is a question is never read as a slot's free-text answer (起付线是多少 is six
# hanzi too); slot answers such as 李娜 or 是 rarely look like a catalogue question and score low everywhere.
QUESTION_ABOVE = 0.5


def looks_like_question(message: Message) -> bool:
    nlu = message.nlu
    return (nlu is not None and not nlu.is_ambiguous and nlu.confidence >= QUESTION_ABOVE
            and nlu.intent != OUT_OF_SCOPE)


def read_yes_no(message: Message, form_state: FormState, ctx: Context) -> Reading:
    answer = vocabulary.yes_or_no(message.text)
    if answer is True:
        return Filled(True)
    if answer is False:
        return Declined()
    return None


def _never(message: Message, form_state: FormState, ctx: Context) -> Reading:
    return None


# --- sharing_grant -----------------------------------------------------------------------------------------------


def _read_relation(message: Message, form_state: FormState, ctx: Context) -> Reading:
    relations = message.values("relation")
    if not relations:
        return None
    relation = relations[0]
    allowed = handlers.allowed_relations(ctx)
    if relation not in allowed:
        why = replies.GRANT_RELATION_NOT_ALLOWED.format(
            region=replies.REGION_LABELS[ctx.region], relations=replies.join(allowed.values()))
        return Invalid([replies.choices(why, allowed.items())])
    return Filled(relation)


def _read_relation_choice(message: Message, form_state: FormState, ctx: Context) -> Reading:
    picked = vocabulary.pick(message.text, list(handlers.allowed_relations(ctx).items()))
    return Filled(picked) if picked else None


def _prompt_relation(form_state: FormState, ctx: Context) -> list[Reply]:
    return [replies.choices(replies.GRANT_ASK_RELATION, handlers.allowed_relations(ctx).items())]


def _read_name(message: Message, form_state: FormState, ctx: Context) -> Reading:
    """The person_name entity; or a word of its own after the request that looks like a name (…共济 李娜 6401…)."""
    name = message.first("person_name")
    if name and looks_like_name(name):
        return Filled(name)
    words = [word for word in re.split(r"[\s,，。、;；:：]+|\d[\dXx]*", to_halfwidth(message.text)) if word]
    if len(words) < 2:  # a lone word is read as a name only when the name is asked for (_read_bare_name)
        return None
    names = [word for word in words[1:]
             if 2 <= len(word) <= 4 and looks_like_name(word) and starts_with_surname(word)]
    return Filled(names[-1]) if len(names) == 1 else None


_NAME_PREFIX = re.compile(r"^(?:他|她|我\S{0,3}?)?(?:叫做|叫|名字是|名字叫|姓名是|姓名|是)")
_NAME = re.compile(r"[\u4e00-\u9fff]{2,6}(?:·[\u4e00-\u9fff]{1,10})*")
# Characters a Chinese personal name practically never holds, but the words of a conversation do.
_NOT_IN_NAMES = re.compile(r"[我你您他她们的了吗呢啊吧呀嘛是不没对错同意确认好行可以要想办开通授权共济医保钱卡谁什么怎么哪]")


def looks_like_name(candidate: str) -> bool:
    if vocabulary.yes_or_no(candidate) is not None:
        return False
    core = candidate.replace("·", "")
    return bool(_NAME.fullmatch(candidate)) and not _NOT_IN_NAMES.search(core[1:] if len(core) > 2 else core)


def _read_bare_name(message: Message, form_state: FormState, ctx: Context) -> Reading:
    """A name typed on its own when asked for it: 李娜, 叫李娜, 巴特尔 (no surname list: any 2–6 hanzi)."""
    if looks_like_question(message):
        return None  # answered by the interruption path
    candidate = _NAME_PREFIX.sub("", re.sub(r"[\s,.!?，。！？]+", "", to_halfwidth(message.text)))
    if looks_like_name(candidate):
        return Filled(candidate)
    return Invalid([replies.text(replies.GRANT_NAME_INVALID)])


def _prompt_name(form_state: FormState, ctx: Context) -> list[Reply]:
    relation = handlers.relation_label(form_state.slots["relation"])
    return [replies.text(replies.GRANT_ASK_NAME.format(relation=relation))]


_ID_LIKE = re.compile(r"(?<![0-9A-Za-z])\d{14,17}[\dXx]?(?![0-9A-Za-z])")


def _read_id_number(message: Message, form_state: FormState, ctx: Context) -> Reading:
    """The entity; else digits typed with spaces or dashes (6401 0619…), or a mistyped number: say what is wrong."""
    number = message.first("id_number")
    if number is None:
        typed = _ID_LIKE.search(re.sub(r"[\s\-]", "", to_halfwidth(message.text)))
        if typed is None:
            return None
        try:
            number = validate_id_number(typed.group(0), ctx.today)
        except InvalidIdNumber as problem:
            return Invalid([replies.text(replies.ID_PROBLEMS[problem.reason])])
    name = form_state.slots.get("name")
    if name and people.name_matches(number, name) is False:
        return Invalid([replies.text(replies.GRANT_ID_NAME_MISMATCH.format(name=name))])
    return Filled(number)


def _prompt_id_number(form_state: FormState, ctx: Context) -> list[Reply]:
    return [replies.text(replies.GRANT_ASK_ID.format(name=form_state.slots["name"]))]


def _prompt_grant_confirmation(form_state: FormState, ctx: Context) -> list[Reply]:
    return [handlers.grant_confirmation(form_state.slots, ctx)]


def _reprompt_grant_confirmation(form_state: FormState, ctx: Context) -> list[Reply]:
    return [replies.choices(replies.GRANT_CONFIRM_AGAIN, replies.AGREE_CHOICES)]


def _complete_grant(form_state: FormState, ctx: Context) -> list[Reply]:
    slots = form_state.slots
    return handlers.make_grant(ctx, relation=slots["relation"], name=slots["name"], id_number=slots["id_number"])


# --- sharing_revoke ----------------------------------------------------------------------------------------------


def _begin_revoke(form_state: FormState, ctx: Context) -> list[Reply] | None:
    form_state.options = handlers.revocable_grants(ctx)
    if not form_state.options:
        return [replies.text(replies.REVOKE_NONE)]
    if len(form_state.options) == 1:
        form_state.slots["grant"] = form_state.options[0]["value"]
    return None


def _read_grant(message: Message, form_state: FormState, ctx: Context) -> Reading:
    """A grant named by relation or by name in any message, when exactly one active grant matches."""
    relations, names = set(message.values("relation")), set(message.values("person_name"))
    matches = [o for o in form_state.options
               if o["relation"] in relations or o["name"] in names or (o["name"] and o["name"] in message.text)]
    return Filled(matches[0]["value"]) if len(matches) == 1 else None


def _read_grant_choice(message: Message, form_state: FormState, ctx: Context) -> Reading:
    picked = vocabulary.pick(message.text, _grant_options(form_state))
    return Filled(picked) if picked else None


def _grant_options(form_state: FormState) -> list[tuple[str, str]]:
    return [(option["value"], option["label"]) for option in form_state.options]


def _prompt_grant(form_state: FormState, ctx: Context) -> list[Reply]:
    return [replies.choices(replies.REVOKE_ASK_WHICH, _grant_options(form_state))]


def _reprompt_grant(form_state: FormState, ctx: Context) -> list[Reply]:
    return [replies.choices(replies.REVOKE_PICK_AGAIN, _grant_options(form_state))]


def _chosen_grant(form_state: FormState) -> dict:
    return next(o for o in form_state.options if o["value"] == form_state.slots["grant"])


def _prompt_revoke_confirmation(form_state: FormState, ctx: Context) -> list[Reply]:
    chosen = _chosen_grant(form_state)
    prompt = replies.REVOKE_CONFIRM.format(relation=chosen["relation_label"], name=chosen["name"],
                                           id_masked=chosen["id_masked"])
    return [replies.choices(prompt, replies.YES_NO_CHOICES)]


def _reprompt_revoke_confirmation(form_state: FormState, ctx: Context) -> list[Reply]:
    return [replies.choices(replies.REVOKE_CONFIRM_AGAIN, replies.YES_NO_CHOICES)]


def _complete_revoke(form_state: FormState, ctx: Context) -> list[Reply]:
    return handlers.revoke_grant(ctx, _chosen_grant(form_state))


# --- benefit_estimate --------------------------------------------------------------------------------------------


def _read_amount(message: Message, form_state: FormState, ctx: Context) -> Reading:
    amount = message.first("amount")
    if amount is None:
        return None
    fen = yuan_to_fen(amount)
    return Filled(fen) if fen > 0 else Invalid([replies.text(replies.ESTIMATE_AMOUNT_INVALID)])


def _read_amount_typed(message: Message, form_state: FormState, ctx: Context) -> Reading:
    """Asked for an amount, the person typed digits the extractor would not take as money (0, 1.234…)."""
    if re.search(r"\d", message.text) and not looks_like_question(message):
        return Invalid([replies.text(replies.ESTIMATE_AMOUNT_INVALID)])
    return None


def _prompt_amount(form_state: FormState, ctx: Context) -> list[Reply]:
    return [replies.text(replies.ESTIMATE_ASK_AMOUNT)]


def _read_level(message: Message, form_state: FormState, ctx: Context) -> Reading:
    level = message.first("hospital_level")
    return Filled(level) if level else None


def _read_level_choice(message: Message, form_state: FormState, ctx: Context) -> Reading:
    picked = vocabulary.pick(message.text, replies.LEVEL_CHOICES)
    return Filled(picked) if picked else None


def _prompt_level(form_state: FormState, ctx: Context) -> list[Reply]:
    return [replies.choices(replies.ESTIMATE_ASK_LEVEL, replies.LEVEL_CHOICES)]


def _reprompt_level(form_state: FormState, ctx: Context) -> list[Reply]:
    return [replies.choices(replies.ESTIMATE_LEVEL_AGAIN, replies.LEVEL_CHOICES)]


def _complete_estimate(form_state: FormState, ctx: Context) -> list[Reply]:
    return handlers.estimate(ctx, amount_fen=form_state.slots["amount"], level=form_state.slots["hospital_level"])


FORMS: dict[str, Form] = {
    "sharing_grant": Form(
        "sharing_grant",
        (
            Slot("relation", _prompt_relation, _read_relation, _read_relation_choice),
            Slot("name", _prompt_name, _read_name, _read_bare_name),
            Slot("id_number", _prompt_id_number, _read_id_number),
            Slot("confirm", _prompt_grant_confirmation, _never, read_yes_no, _reprompt_grant_confirmation),
        ),
        _complete_grant,
    ),
    "sharing_revoke": Form(
        "sharing_revoke",
        (
            Slot("grant", _prompt_grant, _read_grant, _read_grant_choice, _reprompt_grant),
            Slot("confirm", _prompt_revoke_confirmation, _never, read_yes_no, _reprompt_revoke_confirmation),
        ),
        _complete_revoke,
        begin=_begin_revoke,
    ),
    "benefit_estimate": Form(
        "benefit_estimate",
        (
            Slot("amount", _prompt_amount, _read_amount, _read_amount_typed),
            Slot("hospital_level", _prompt_level, _read_level, _read_level_choice, _reprompt_level),
        ),
        _complete_estimate,
    ),
}
