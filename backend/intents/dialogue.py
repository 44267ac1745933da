"""The dialogue: what the bot does with one message, given the conversation so far (issue 6 §4, issue 10 §1).

- **Forms** (``forms``, run by ``form_engine``) collect slots with prompts and validation. A slot that cannot be
  read is asked again at most ``MAX_REPROMPTS`` times; after that the person is handed over to an agent.
  算了 / 不办了 / 取消 ends a form at any point without changing anything; a correction ("不对，是我妈",
  "名字错了") re-fills the slot it names. A question asked in the middle of a form is answered, and the form
  resumes with the slot it was waiting for.
- **Follow-ups** (``followups``): "那我妈呢？", "二级呢？", "那去年呢" reuse the previous question with the new
  entity; a message with two questions ("查一下余额顺便问问报销比例") gets both answers.
- **Low confidence**: the top two intents are offered as choices; if the next message is still unclear the bot
  asks to rephrase; if that fails too, it hands over. 转人工 (``handoff_human``) hands over at once.
- Personal intents need a signed-in person (anonymous people get a sign-in card) and answer only about that
  person; policy answers need the region, which is the person's, or asked for.

``respond`` changes the ``State`` in place and returns a ``Turn``. The answers and the actions come from
``handlers`` (which call the services). An ID number lives in the state only while the grant form needs it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from backend.domain.identity import redact_id_numbers
from backend.errors import AppError
from backend.intents import followups, form_engine, handlers, replies, vocabulary
from backend.intents.form_engine import Declined, Filled, Form
from backend.intents.forms import FORMS
from backend.intents.nlu import OUT_OF_SCOPE, NluResult
from backend.intents.replies import Reply
from backend.intents.types import Context, Message, State, Turn

HANDOFF = "handoff_human"
# Below this confidence an in-scope top intent is not acted on but offered as a choice (with the runner-up). In
# 5-fold cross-validation over the training data, answers between 0.35 and 0.8 were right 89 % of the time, those
# under 0.35 only 56 %.
CLARIFY_BELOW = 0.35
# Inside a form, a message the NLU is this sure is another question is answered as one, even if it also names a
# slot value (三甲医院的报销比例是多少 while the estimate waits for the level).
QUESTION_ABOVE = 0.8
# A message that fills no slot is taken as a new question when the NLU is at least this sure of it.
INTERRUPT_ABOVE = 0.5
MAX_REPROMPTS = 2
_NOT_WORDS = re.compile(r"[\d\sXx\-.,，。]+")
# Intents never offered as a clarification choice: they are never what an unclear question meant.
_NOT_OFFERED = frozenset({OUT_OF_SCOPE, "greeting", "goodbye", HANDOFF})
# A form is not interrupted by small talk: 谢谢 or 好的 in the middle of a grant is not the end of it.
_NOT_INTERRUPTING = (OUT_OF_SCOPE, "greeting", "goodbye")


def respond(state: State, message: Message, ctx: Context) -> Turn:
    if _asks_for_human(message):
        return handover(state, "requested")
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
    follow_up = followups.follow_up(state, message, ctx)
    if follow_up is not None:
        return _answer_follow_up(state, follow_up, ctx)
    return _understood(state, message, ctx)


def _asks_for_human(message: Message) -> bool:
    nlu = message.nlu
    return nlu is not None and nlu.intent == HANDOFF and not nlu.is_ambiguous and nlu.confidence >= CLARIFY_BELOW


def _understood(state: State, message: Message, ctx: Context) -> Turn:
    parts = followups.several_questions(message, ctx.today, confident_at=INTERRUPT_ABOVE)
    if parts:
        return _answer_each(state, parts, ctx)
    nlu = message.nlu
    if is_unclear(nlu):
        return _not_understood(state, message)
    state.unclear = 0
    return start(state, nlu.intent, message, ctx)


def is_unclear(nlu: NluResult) -> bool:
    return nlu.is_ambiguous or (nlu.intent != OUT_OF_SCOPE and nlu.confidence < CLARIFY_BELOW)


def _answer_each(state: State, parts: Sequence[Message], ctx: Context) -> Turn:
    """Two questions in one message: each answered in turn (a form, if any, last so that it stays open)."""
    ordered = sorted(parts, key=lambda part: part.nlu.intent in FORMS)
    turns = [start(state, part.nlu.intent, part, ctx) for part in ordered]
    handoff = next((turn.handoff for turn in turns if turn.handoff), None)
    return Turn(turns[-1].intent, [reply for turn in turns for reply in turn.replies], handoff)


def _answer_follow_up(state: State, follow_up: followups.FollowUp, ctx: Context) -> Turn:
    if follow_up.refusal is not None:
        return Turn(follow_up.intent, [follow_up.refusal])
    ctx.told_region = follow_up.region or ctx.told_region
    ctx.told_person_type = follow_up.person_type
    ctx.year = follow_up.year
    return start(state, follow_up.intent, follow_up.message, ctx, remember=False)


def _not_understood(state: State, message: Message) -> Turn:
    state.unclear += 1
    intent = message.nlu.intent if message.nlu else None
    if state.unclear == 1:
        candidates = [s.intent for s in message.nlu.ranking if s.intent not in _NOT_OFFERED][:2]
        state.offer = {"intents": candidates, "text": redact_id_numbers(message.text)}
        return Turn(intent, [replies.choices(replies.CLARIFY, _offer_options(candidates))])
    if state.unclear == 2:
        return Turn(intent, [replies.text(replies.REPHRASE)])
    return handover(state, "not_understood")


def _offer_options(intents: Sequence[str]) -> list[tuple[str, str]]:
    return [(intent, replies.INTENT_LABELS[intent]) for intent in intents] + [(replies.NOT_LISTED, "都不是")]


def _after_offer(state: State, message: Message, ctx: Context) -> Turn | None:
    offer, state.offer = state.offer, None
    options = _offer_options(offer["intents"])
    picked = vocabulary.pick(message.text, options)
    if picked is None and vocabulary.is_affirmation(message.text) and offer["intents"]:
        picked = offer["intents"][0]  # "对" / "是的" to "您是想…": the first suggestion
    if picked is None:
        return None  # a new message: understood afresh (still counting towards the handover if unclear)
    if picked == replies.NOT_LISTED:
        state.unclear = 2
        return Turn(None, [replies.text(replies.REPHRASE)])
    state.unclear = 0
    return start(state, picked, Message.reread(offer["text"], ctx.today), ctx)


def _after_region_question(state: State, message: Message, ctx: Context) -> Turn | None:
    pending, state.pending = state.pending, None
    region = vocabulary.region_in(message.text) or vocabulary.pick(message.text, replies.REGION_CHOICES)
    if region is None:
        return None
    state.region = ctx.region = region
    turn = start(state, pending["intent"], Message.reread(pending["text"], ctx.today), ctx)
    turn.replies.insert(0, replies.text(replies.REGION_REMEMBERED.format(region=replies.REGION_LABELS[region])))
    return turn


def start(state: State, intent: str, message: Message, ctx: Context, *, remember: bool = True) -> Turn:
    """Act on an understood intent: begin its form, or answer it (asking for sign-in or the region first)."""
    if intent == HANDOFF:
        return handover(state, "requested")
    if intent in handlers.PERSONAL_INTENTS and ctx.person_id is None:
        return Turn(intent, [handlers.sign_in_card(intent)])
    if intent in handlers.ABOUT_THE_PERSON and followups.asks_about_someone_else(message):
        return Turn(intent, [followups.someone_elses_data(intent, message)])
    if remember:
        followups.remember(state, intent, message)
    if intent in FORMS:
        return form_engine.start_form(state, FORMS[intent], message, ctx)
    if intent in handlers.REGIONAL_INTENTS and ctx.region is None:
        region = vocabulary.region_in(message.text)
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


def handover(state: State, reason: str, saying: str = replies.HANDOVER) -> Turn:
    """The conversation opens the escalation (reason: requested | not_understood | reprompts_exhausted)."""
    state.form, state.offer, state.pending, state.unclear = None, None, None, 0
    return Turn(HANDOFF, [replies.text(saying)], handoff=reason)


# --- inside a form -----------------------------------------------------------------------------------------------


def _continue_form(state: State, message: Message, ctx: Context) -> Turn:
    form_state = state.form
    form = FORMS[form_state.name]
    if vocabulary.is_cancel(message.text):
        return form_engine.cancel(state, form)
    if (_other_intent(message, form, QUESTION_ABOVE) and not vocabulary.is_correction(message.text)
            and not _answers_awaited(form, state, message, ctx)):
        return _interruption(state, form, message, ctx)
    corrected = _correction(form, state, message)
    if corrected is not None:
        form_engine.reopen(form, form_state, corrected)
    filled, problem = form_engine.read_slots(form, form_state, message, ctx)
    if problem is not None and isinstance(problem[1], Declined):
        return form_engine.cancel(state, form)
    if problem is not None:
        return _failed(state, form, ctx, problem)
    if filled or corrected is not None:
        form_state.failures = 0
        return Turn(form.name, form_engine.advance(state, form, ctx))
    if _other_intent(message, form, INTERRUPT_ABOVE):
        return _interruption(state, form, message, ctx)
    if _sure_of(message, INTERRUPT_ABOVE) and message.nlu.intent == form.name:  # asked again for what is under way
        return Turn(form.name, form_engine.prompt(form, form_state, ctx))
    return _failed(state, form, ctx, None)


def _correction(form: Form, state: State, message: Message) -> str | None:
    """The slot a correction re-opens: the one it names (关系 / 名字 / 身份证), the one a new relation or name
    fills ("不对，是我妈"), or else the slot answered just before the one being asked for."""
    form_state = state.form
    if not vocabulary.is_correction(message.text) or vocabulary.yes_or_no(message.text) is False:
        return None
    named = vocabulary.corrected_slot(message.text)
    if message.values("relation") and form.has_slot("relation"):
        named = "relation"
    if named is None or not form.has_slot(named):
        names = [slot.name for slot in form.slots]
        position = names.index(form_state.awaiting) if form_state.awaiting in names else 0
        named = names[position - 1] if position > 0 else names[0]
    return named


def _answers_awaited(form: Form, state: State, message: Message, ctx: Context) -> bool:
    """好的 at a confirmation is its answer, however sure the NLU is that 好的 alone means goodbye."""
    awaiting = state.form.awaiting
    slot = form.slot(awaiting) if awaiting and form.has_slot(awaiting) else None
    if slot is None or slot.read_awaited is None:
        return False
    return isinstance(slot.read_awaited(message, state.form, ctx), (Filled, Declined))


def _sure_of(message: Message, at_least: float) -> bool:
    nlu = message.nlu
    return nlu is not None and not nlu.is_ambiguous and nlu.confidence >= at_least


def _other_intent(message: Message, form: Form, at_least: float) -> bool:
    """A question of its own: sure enough, and words in it (digits typed for a slot are no question)."""
    has_words = len(_NOT_WORDS.sub("", message.text)) >= 2
    return has_words and _sure_of(message, at_least) and message.nlu.intent not in (form.name, *_NOT_INTERRUPTING)


def _interruption(state: State, form: Form, message: Message, ctx: Context) -> Turn:
    """Another question in the middle of a form: answered, then the form resumes (another form replaces it)."""
    intent = message.nlu.intent
    label = replies.FORM_LABELS[form.name]
    if intent in FORMS:
        state.form = None
        turn = start(state, intent, message, ctx)
        turn.replies.insert(0, replies.text(replies.SWITCHED.format(form=label)))
        return turn
    answer = start(state, intent, message, ctx, remember=False)
    if state.form is None:  # the question handed over
        return answer
    resume = [replies.text(replies.RESUME.format(form=label)), *form_engine.prompt(form, state.form, ctx)]
    return Turn(intent, answer.replies + resume, answer.handoff)


def _failed(state: State, form: Form, ctx: Context, problem: form_engine.Problem | None) -> Turn:
    """A turn that did not move the form on: say why and ask again, or hand over after MAX_REPROMPTS."""
    form_state = state.form
    form_state.failures += 1
    if form_state.failures > MAX_REPROMPTS:
        return handover(state, "reprompts_exhausted", replies.HANDOVER_AFTER_FAILURES)
    if problem is not None:
        return Turn(form.name, form_engine.explained(problem, form, form_state, ctx))
    return Turn(form.name, form_engine.reprompt(form, form_state, ctx))
