"""The dialogue: what the bot does with one message, given the conversation so far (issue 6 §4).

- **Forms** collect slots with prompts and validation: ``sharing_grant`` (relation → name → ID number → the
  承诺书 and a confirmation), ``sharing_revoke`` (which grant → confirmation), ``benefit_estimate`` (amount →
  hospital level). Slots already present in a message are filled at once, from any message of the form.
  A slot that cannot be read is asked again at most ``MAX_REPROMPTS`` times; after that the person is handed
  over to an agent. 算了 / 不办了 / 取消 ends a form at any point without changing anything. A question asked in
  the middle of a form is answered, and the form resumes with the slot it was waiting for.
- **Low confidence**: the top two intents are offered as choices; if the next message is still unclear the bot
  asks to rephrase; if that fails too, it hands over. 转人工 (``handoff_human``) hands over at once.
- Personal intents need a signed-in person (anonymous people get a sign-in card); policy answers need the
  region, which is the person's, or asked for.

The state is a plain, JSON-serialisable ``State`` (kept in Redis by ``sessions``); ``respond`` changes it in place
and returns a ``Turn``. The answers and the actions come from ``handlers`` (which call the services).
An ID number lives in the state only while the grant form needs it: the form, and the number with it, is
dropped when the grant is made, cancelled or handed over.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from backend.domain.identity import InvalidIdNumber, redact_id_numbers, validate_id_number
from backend.domain.money import yuan_to_fen
from backend.errors import AppError
from backend.intents import handlers, replies
from backend.intents.entities import Entity, extract, to_halfwidth
from backend.intents.handlers import Context
from backend.intents.nlu import OUT_OF_SCOPE, NluResult
from backend.intents.replies import Reply

HANDOFF = "handoff_human"
# Below this confidence an in-scope top intent is not acted on but offered as a choice (with the runner-up).
# 0.35 keeps every correctly understood unseen question but the vaguest few out of the clarification path.
CLARIFY_BELOW = 0.35
# Inside a form, a message the NLU is this sure is another question is answered as one, even if it also names a
# slot value (三甲医院的报销比例是多少 while the estimate waits for the level); slot answers such as 社区医院 or
# 我老婆 stay well below it.
QUESTION_ABOVE = 0.8
# A message that fills no slot is taken as a new question when the NLU is at least this sure of it; a slot
# answer (a name, "是") rarely looks like a catalogue question, and then scores low everywhere.
INTERRUPT_ABOVE = 0.5
MAX_REPROMPTS = 2
# Intents never offered as a clarification choice: they are never what an unclear question meant.
_NOT_OFFERED = frozenset({OUT_OF_SCOPE, "greeting", "goodbye", HANDOFF})


# --- state ---------------------------------------------------------------------------------------------------


@dataclass
class FormState:
    name: str
    slots: dict[str, Any] = field(default_factory=dict)
    awaiting: str | None = None
    failures: int = 0  # consecutive turns that did not move the form on
    options: list[dict] = field(default_factory=list)  # what a choice slot offers: [{"value", "label", ...}]


@dataclass
class State:
    person_id: int | None = None
    region: str | None = None  # told by an anonymous person; a signed-in person's comes from their record
    form: FormState | None = None
    offer: dict | None = None  # {"intents": [...], "text": redacted message} — a clarification on the table
    unclear: int = 0  # consecutive messages not understood (choices → rephrase → handover)
    pending: dict | None = None  # {"intent", "text"}: a policy question waiting for the region

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> State:
        form = data.get("form")
        return cls(**{**data, "form": FormState(**form) if form else None})


@dataclass(frozen=True)
class Message:
    text: str
    entities: tuple[Entity, ...]
    nlu: NluResult | None = None  # None for a message re-read from the state (only its entities matter)

    @classmethod
    def understood(cls, nlu: NluResult) -> Message:
        return cls(nlu.text, nlu.entities, nlu)

    @classmethod
    def reread(cls, text: str, today: dt.date) -> Message:
        return cls(text, tuple(extract(text, today)))

    def values(self, entity_type: str) -> list[str]:
        return [entity.value for entity in self.entities if entity.type == entity_type]

    def first(self, entity_type: str) -> str | None:
        values = self.values(entity_type)
        return values[0] if values else None


@dataclass
class Turn:
    intent: str | None
    replies: list[Reply]
    handoff: str | None = None  # the escalation's reason when this turn hands the person over


# --- one message ---------------------------------------------------------------------------------------------


def respond(state: State, message: Message, ctx: Context) -> Turn:
    if _asks_for_human(message):
        return _handover(state, "requested")
    if state.form is not None:
        return _continue_form(state, message, ctx)
    if state.offer is not None:
        turn = _after_offer(state, message, ctx)
        if turn is not None:
            return turn
    if state.pending is not None:
        turn = _after_region_question(state, message, ctx)
        if turn is not None:
            return turn
    return _understood(state, message, ctx)


def _asks_for_human(message: Message) -> bool:
    nlu = message.nlu
    return nlu is not None and nlu.intent == HANDOFF and not nlu.is_ambiguous


def _understood(state: State, message: Message, ctx: Context) -> Turn:
    nlu = message.nlu
    if is_unclear(nlu):
        return _not_understood(state, message)
    state.unclear = 0
    return start(state, nlu.intent, message, ctx)


def is_unclear(nlu: NluResult) -> bool:
    return nlu.is_ambiguous or (nlu.intent != OUT_OF_SCOPE and nlu.confidence < CLARIFY_BELOW)


def _not_understood(state: State, message: Message) -> Turn:
    state.unclear += 1
    intent = message.nlu.intent if message.nlu else None
    if state.unclear == 1:
        candidates = [s.intent for s in message.nlu.ranking if s.intent not in _NOT_OFFERED][:2]
        state.offer = {"intents": candidates, "text": redact_id_numbers(message.text)}
        return Turn(intent, [replies.choices(replies.CLARIFY, _offer_options(candidates))])
    if state.unclear == 2:
        return Turn(intent, [replies.text(replies.REPHRASE)])
    return _handover(state, "not_understood")


def _offer_options(intents: Sequence[str]) -> list[tuple[str, str]]:
    return [(intent, replies.INTENT_LABELS[intent]) for intent in intents] + [(replies.NOT_LISTED, "都不是")]


def _after_offer(state: State, message: Message, ctx: Context) -> Turn | None:
    offer, state.offer = state.offer, None
    picked = pick(message.text, _offer_options(offer["intents"]))
    if picked is None:
        return None  # a new message: understood afresh (still counting towards the handover if unclear)
    if picked == replies.NOT_LISTED:
        state.unclear = 2
        return Turn(None, [replies.text(replies.REPHRASE)])
    state.unclear = 0
    return start(state, picked, Message.reread(offer["text"], ctx.today), ctx)


def _after_region_question(state: State, message: Message, ctx: Context) -> Turn | None:
    pending, state.pending = state.pending, None
    region = region_in(message.text) or pick(message.text, replies.REGION_CHOICES)
    if region is None:
        return None
    state.region = ctx.region = region
    turn = start(state, pending["intent"], Message.reread(pending["text"], ctx.today), ctx)
    turn.replies.insert(0, replies.text(replies.REGION_REMEMBERED.format(region=replies.REGION_LABELS[region])))
    return turn


def start(state: State, intent: str, message: Message, ctx: Context) -> Turn:
    """Act on an understood intent: begin its form, or answer it (asking for sign-in or the region first)."""
    if intent == HANDOFF:
        return _handover(state, "requested")
    if intent in handlers.PERSONAL_INTENTS and ctx.person_id is None:
        return Turn(intent, [handlers.sign_in_card(intent)])
    if intent in FORMS:
        return _start_form(state, FORMS[intent], message, ctx)
    if intent in handlers.REGIONAL_INTENTS and ctx.region is None:
        region = region_in(message.text)
        if region is None:
            state.pending = {"intent": intent, "text": redact_id_numbers(message.text)}
            return Turn(intent, [replies.choices(replies.ASK_REGION, replies.REGION_CHOICES)])
        state.region = ctx.region = region
    return Turn(intent, _answer(intent, message, ctx))


def _answer(intent: str, message: Message, ctx: Context) -> list[Reply]:
    try:
        return handlers.answer(intent, message, ctx)
    except AppError as error:
        return [replies.text(replies.SERVICE_FAILED.format(message=error.message))]


def _handover(state: State, reason: str, saying: str = replies.HANDOVER) -> Turn:
    """The chat service opens the escalation (reason: requested | not_understood | reprompts_exhausted)."""
    state.form, state.offer, state.pending, state.unclear = None, None, None, 0
    return Turn(HANDOFF, [replies.text(saying)], handoff=reason)


# --- forms ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Filled:
    value: Any


@dataclass(frozen=True)
class Invalid:
    replies: list[Reply]


@dataclass(frozen=True)
class Declined:
    """The person said no at a confirmation: the form ends like a cancel."""


Reading = Filled | Invalid | Declined | None
Reader = Callable[[Message, FormState, Context], Reading]


@dataclass(frozen=True)
class Slot:
    name: str
    prompt: Callable[[FormState, Context], list[Reply]]
    read: Reader  # from any message of the form (entities): fills ahead of time too
    read_awaited: Reader | None = None  # only when this slot was asked for (free text, yes/no, a choice)
    reprompt: Callable[[FormState, Context], list[Reply]] | None = None


@dataclass(frozen=True)
class Form:
    name: str
    slots: tuple[Slot, ...]
    complete: Callable[[FormState, Context], list[Reply]]
    # Run when the form starts: may fill slots or options, or end the form at once with replies.
    begin: Callable[[FormState, Context], list[Reply] | None] | None = None

    def slot(self, name: str) -> Slot:
        return next(slot for slot in self.slots if slot.name == name)


def _start_form(state: State, form: Form, message: Message, ctx: Context) -> Turn:
    form_state = FormState(form.name)
    if form.begin is not None:
        try:
            ended = form.begin(form_state, ctx)
        except AppError as error:
            ended = [replies.text(replies.SERVICE_FAILED.format(message=error.message))]
        if ended is not None:
            return Turn(form.name, ended)
    state.form = form_state
    _, problem = _read_slots(form, form_state, message, ctx)  # nothing is awaited yet, so no "no" either
    if problem is not None:
        form_state.failures = 1
        return Turn(form.name, _explained(problem, form, form_state, ctx))
    return Turn(form.name, _advance(state, form, ctx))


def _continue_form(state: State, message: Message, ctx: Context) -> Turn:
    form_state = state.form
    form = FORMS[form_state.name]
    if is_cancel(message.text):
        return _cancel(state, form)
    if _other_intent(message, form, QUESTION_ABOVE):
        return _interruption(state, form, message, ctx)
    filled, problem = _read_slots(form, form_state, message, ctx)
    if problem is not None and isinstance(problem[1], Declined):
        return _cancel(state, form)
    if problem is not None:
        return _failed(state, form, ctx, problem)
    if filled:
        form_state.failures = 0
        return Turn(form.name, _advance(state, form, ctx))
    if _other_intent(message, form, INTERRUPT_ABOVE):
        return _interruption(state, form, message, ctx)
    if _sure_of(message, INTERRUPT_ABOVE) and message.nlu.intent == form.name:  # asked again for what is under way
        return Turn(form.name, _prompt(form, form_state, ctx))
    return _failed(state, form, ctx, None)


def _sure_of(message: Message, at_least: float) -> bool:
    nlu = message.nlu
    return nlu is not None and not nlu.is_ambiguous and nlu.confidence >= at_least


def _other_intent(message: Message, form: Form, at_least: float) -> bool:
    return _sure_of(message, at_least) and message.nlu.intent not in (form.name, OUT_OF_SCOPE)


def _interruption(state: State, form: Form, message: Message, ctx: Context) -> Turn:
    """Another question in the middle of a form: answered, then the form resumes (another form replaces it)."""
    intent = message.nlu.intent
    label = replies.FORM_LABELS[form.name]
    if intent in FORMS:
        state.form = None
        turn = start(state, intent, message, ctx)
        turn.replies.insert(0, replies.text(replies.SWITCHED.format(form=label)))
        return turn
    answer = start(state, intent, message, ctx)
    resume = [replies.text(replies.RESUME.format(form=label)), *_prompt(form, state.form, ctx)]
    return Turn(intent, answer.replies + resume)


def _failed(state: State, form: Form, ctx: Context, problem: tuple[str, Invalid] | None) -> Turn:
    """A turn that did not move the form on: say why and ask again, or hand over after MAX_REPROMPTS."""
    form_state = state.form
    form_state.failures += 1
    if form_state.failures > MAX_REPROMPTS:
        return _handover(state, "reprompts_exhausted", replies.HANDOVER_AFTER_FAILURES)
    if problem is not None:
        return Turn(form.name, _explained(problem, form, form_state, ctx))
    slot = form.slot(form_state.awaiting)
    again = slot.reprompt or slot.prompt
    return Turn(form.name, [replies.text(replies.DID_NOT_UNDERSTAND), *again(form_state, ctx)])


def _cancel(state: State, form: Form) -> Turn:
    state.form = None
    return Turn(form.name, [replies.text(replies.CANCELLED.format(form=replies.FORM_LABELS[form.name]))])


def _read_slots(
    form: Form, form_state: FormState, message: Message, ctx: Context
) -> tuple[bool, tuple[str, Invalid | Declined] | None]:
    """Fill every slot the message provides; also return the first problem (slot, invalid value or a "no")."""
    filled, problem = False, None
    for slot in form.slots:
        reading = slot.read(message, form_state, ctx)
        if reading is None and slot.read_awaited is not None and form_state.awaiting == slot.name:
            reading = slot.read_awaited(message, form_state, ctx)
        if isinstance(reading, Filled):
            form_state.slots[slot.name] = reading.value
            filled = True
        elif reading is not None and problem is None:
            problem = (slot.name, reading)
    return filled, problem


def _advance(state: State, form: Form, ctx: Context) -> list[Reply]:
    form_state = state.form
    next_slot = _next_slot(form, form_state)
    if next_slot is None:
        state.form = None  # the ID number (if any) leaves the state here
        try:
            return form.complete(form_state, ctx)
        except AppError as error:
            return [replies.text(replies.SERVICE_REFUSED.format(message=error.message))]
    form_state.awaiting = next_slot.name
    return next_slot.prompt(form_state, ctx)


def _next_slot(form: Form, form_state: FormState) -> Slot | None:
    return next((slot for slot in form.slots if slot.name not in form_state.slots), None)


def _prompt(form: Form, form_state: FormState, ctx: Context) -> list[Reply]:
    slot = _next_slot(form, form_state)
    form_state.awaiting = slot.name
    return slot.prompt(form_state, ctx)


def _explained(problem: tuple[str, Invalid], form: Form, form_state: FormState, ctx: Context) -> list[Reply]:
    """Why a value was refused (which asks for it again), then the next missing slot's question if another."""
    slot_name, invalid = problem
    next_slot = _next_slot(form, form_state)
    if next_slot is None or next_slot.name == slot_name:
        form_state.awaiting = slot_name
        return list(invalid.replies)
    return list(invalid.replies) + _prompt(form, form_state, ctx)


# --- reading slot values -------------------------------------------------------------------------------------

_CANCEL = re.compile(r"算了|不办了|不弄了|不要了|不用了|不想办了|先不办|不想弄了|退出办理|不授权了|不估算了|不算了")
_CANCEL_WHOLE = re.compile(r"(?:取消|退出|停止|结束)(?:办理|操作|吧|了|啊|呀)?")
_PARTICLES = re.compile(r"[\s,.!?;:~，。！？、；：…～\"'“”‘’()（）]+")


def is_cancel(text: str) -> bool:
    """算了 / 不办了 anywhere; 取消 only as the whole message (取消授权 is a request, not a cancel)."""
    plain = _PARTICLES.sub("", to_halfwidth(text))
    return bool(_CANCEL.search(plain) or _CANCEL_WHOLE.fullmatch(plain))


_YES = re.compile(r"(?:是|是的|对|对的|确认|确定|同意|同意授权|同意并确认授权|确认授权|确认解除|好|好的|可以|行|没问题|嗯|嗯嗯|ok|yes|y)"
                  r"(?:的|了|啊|呀|吧)?")
_NO = re.compile(r"(?:不|否|不是|不对|不同意|不确认|不要|不行|no|n)(?:的|了|啊|呀|吧)?")


def _plain(text: str) -> str:
    return _PARTICLES.sub("", to_halfwidth(text)).lower()


def read_yes_no(message: Message, form_state: FormState, ctx: Context) -> Reading:
    plain = _plain(message.text)
    if plain == "yes" or _YES.fullmatch(plain):
        return Filled(True)
    if plain == "no" or _NO.fullmatch(plain):
        return Declined()
    return None


_ORDINAL = re.compile(r"(?:第)?(?P<n>[1-9]|[一二三四五六七八九])(?:个|项|条|种)?")
_CN_ORDINALS = "一二三四五六七八九"


def pick(text: str, options: Sequence[tuple[str, str]]) -> str | None:
    """Which option a reply chose: its value or label sent back, its number (1 / 第一个), or its label inside."""
    plain = _plain(text)
    if not plain:
        return None
    for value, label in options:
        if plain in (value.lower(), _plain(label)):
            return value
    ordinal = _ORDINAL.fullmatch(plain)
    if ordinal:
        n = ordinal["n"]
        index = int(n) if n.isdigit() else _CN_ORDINALS.index(n) + 1
        return options[index - 1][0] if index <= len(options) else None
    inside = [value for value, label in options if _plain(label) in plain]
    return inside[0] if len(inside) == 1 else None


_REGIONS = (
    ("nx", re.compile(r"宁夏|银川|石嘴山|吴忠|固原|中卫")),
    ("nm", re.compile(r"内蒙古|内蒙|呼和浩特|呼市|包头|鄂尔多斯|赤峰|通辽|乌海|乌兰察布|巴彦淖尔|呼伦贝尔|兴安盟|锡林郭勒|阿拉善")),
)


def region_in(text: str) -> str | None:
    found = {region for region, pattern in _REGIONS if pattern.search(text)}
    return found.pop() if len(found) == 1 else None


# sharing_grant


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
    picked = pick(message.text, list(handlers.allowed_relations(ctx).items()))
    return Filled(picked) if picked else None


def _prompt_relation(form_state: FormState, ctx: Context) -> list[Reply]:
    return [replies.choices(replies.GRANT_ASK_RELATION, handlers.allowed_relations(ctx).items())]


def _read_name(message: Message, form_state: FormState, ctx: Context) -> Reading:
    name = message.first("person_name")
    return Filled(name) if name else None


_NAME_PREFIX = re.compile(r"^(?:他|她|我\S{0,3}?)?(?:叫做|叫|名字是|名字叫|姓名是|姓名|是)")
_NAME = re.compile(r"[\u4e00-\u9fff]{2,6}(?:·[\u4e00-\u9fff]{1,10})*")


def _read_bare_name(message: Message, form_state: FormState, ctx: Context) -> Reading:
    """A name typed on its own when asked for it: 李娜, 叫李娜, 巴特尔 (no surname list: any 2–6 hanzi)."""
    if _looks_like_question(message):
        return None  # 起付线是多少 is six hanzi too: a question, answered by the interruption path
    candidate = _NAME_PREFIX.sub("", re.sub(r"[\s,.!?，。！？]+", "", to_halfwidth(message.text)))
    if _NAME.fullmatch(candidate):
        return Filled(candidate)
    return Invalid([replies.text(replies.GRANT_NAME_INVALID)])


def _looks_like_question(message: Message) -> bool:
    return _sure_of(message, INTERRUPT_ABOVE) and message.nlu.intent != OUT_OF_SCOPE


def _prompt_name(form_state: FormState, ctx: Context) -> list[Reply]:
    relation = handlers.relation_label(form_state.slots["relation"])
    return [replies.text(replies.GRANT_ASK_NAME.format(relation=relation))]


_ID_LIKE = re.compile(r"(?<![0-9A-Za-z])\d{14,17}[\dXx]?(?![0-9A-Za-z])")


def _read_id_number(message: Message, form_state: FormState, ctx: Context) -> Reading:
    """The entity; else digits typed with spaces or dashes (6401 0619…), or a mistyped number: say what is wrong."""
    number = message.first("id_number")
    if number:
        return Filled(number)
    typed = _ID_LIKE.search(re.sub(r"[\s\-]", "", to_halfwidth(message.text)))
    if typed is None:
        return None
    try:
        return Filled(validate_id_number(typed.group(0), ctx.today))
    except InvalidIdNumber as problem:
        return Invalid([replies.text(replies.ID_PROBLEMS[problem.reason])])


def _prompt_id_number(form_state: FormState, ctx: Context) -> list[Reply]:
    return [replies.text(replies.GRANT_ASK_ID.format(name=form_state.slots["name"]))]


def _prompt_grant_confirmation(form_state: FormState, ctx: Context) -> list[Reply]:
    return [handlers.grant_confirmation(form_state.slots, ctx)]


def _reprompt_grant_confirmation(form_state: FormState, ctx: Context) -> list[Reply]:
    return [replies.choices(replies.GRANT_CONFIRM_AGAIN, replies.AGREE_CHOICES)]


def _never(message: Message, form_state: FormState, ctx: Context) -> Reading:
    return None


def _complete_grant(form_state: FormState, ctx: Context) -> list[Reply]:
    slots = form_state.slots
    return handlers.make_grant(ctx, relation=slots["relation"], name=slots["name"], id_number=slots["id_number"])


# sharing_revoke


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
    picked = pick(message.text, [(o["value"], o["label"]) for o in form_state.options])
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


# benefit_estimate


def _read_amount(message: Message, form_state: FormState, ctx: Context) -> Reading:
    amount = message.first("amount")
    if amount is None:
        return None
    fen = yuan_to_fen(amount)
    return Filled(fen) if fen > 0 else Invalid([replies.text(replies.ESTIMATE_AMOUNT_INVALID)])


def _read_amount_typed(message: Message, form_state: FormState, ctx: Context) -> Reading:
    """Asked for an amount, the person typed digits the extractor would not take as money (0, 1.234…)."""
    if re.search(r"\d", message.text) and not _looks_like_question(message):
        return Invalid([replies.text(replies.ESTIMATE_AMOUNT_INVALID)])
    return None


def _prompt_amount(form_state: FormState, ctx: Context) -> list[Reply]:
    return [replies.text(replies.ESTIMATE_ASK_AMOUNT)]


def _read_level(message: Message, form_state: FormState, ctx: Context) -> Reading:
    level = message.first("hospital_level")
    return Filled(level) if level else None


def _read_level_choice(message: Message, form_state: FormState, ctx: Context) -> Reading:
    picked = pick(message.text, replies.LEVEL_CHOICES)
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
