"""The form engine: slots with prompts and readers, filled from any message of the form, asked for in order.

A form's slots are filled from every message of the form (``Slot.read``: entities, so a relation or an ID
number typed ahead of time counts) and, for the slot being asked for, also from free text (``read_awaited``: a
bare name, a yes/no, a choice). A reading is ``Filled``, ``Invalid`` (why, which asks again), ``Declined`` (a no
at a confirmation: the form ends like a cancel) or None (nothing for this slot). A correction ("不对，是我妈",
"名字错了") empties the slot it names and every slot after it, then fills it again from the same message.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from backend.errors import AppError
from backend.intents import replies
from backend.intents.replies import Reply
from backend.intents.types import Context, FormState, Message, State, Turn


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
Prompt = Callable[[FormState, Context], list[Reply]]


@dataclass(frozen=True)
class Slot:
    name: str
    prompt: Prompt
    read: Reader  # from any message of the form (entities): fills ahead of time too
    read_awaited: Reader | None = None  # only when this slot was asked for (free text, yes/no, a choice)
    reprompt: Prompt | None = None


@dataclass(frozen=True)
class Form:
    name: str
    slots: tuple[Slot, ...]
    complete: Callable[[FormState, Context], list[Reply]]
    # Run when the form starts: may fill slots or options, or end the form at once with replies.
    begin: Callable[[FormState, Context], list[Reply] | None] | None = None

    def slot(self, name: str) -> Slot:
        return next(slot for slot in self.slots if slot.name == name)

    def has_slot(self, name: str) -> bool:
        return any(slot.name == name for slot in self.slots)


Problem = tuple[str, Invalid | Declined]


def start_form(state: State, form: Form, message: Message, ctx: Context) -> Turn:
    form_state = FormState(form.name)
    if form.begin is not None:
        try:
            ended = form.begin(form_state, ctx)
        except AppError as error:
            ended = [replies.text(replies.SERVICE_FAILED.format(message=error.message))]
        if ended is not None:
            return Turn(form.name, ended)
    state.form = form_state
    _, problem = read_slots(form, form_state, message, ctx)  # nothing is awaited yet, so no "no" either
    if problem is not None:
        form_state.failures = 1
        return Turn(form.name, explained(problem, form, form_state, ctx))
    return Turn(form.name, advance(state, form, ctx))


def read_slots(form: Form, form_state: FormState, message: Message, ctx: Context) -> tuple[bool, Problem | None]:
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


def reopen(form: Form, form_state: FormState, slot_name: str) -> None:
    """Empty a slot and every slot after it (a corrected relation makes the name and ID number asked again)."""
    names = [slot.name for slot in form.slots]
    for name in names[names.index(slot_name):]:
        form_state.slots.pop(name, None)
    form_state.awaiting = slot_name


def advance(state: State, form: Form, ctx: Context) -> list[Reply]:
    form_state = state.form
    following = next_slot(form, form_state)
    if following is None:
        state.form = None  # the ID number (if any) leaves the state here
        try:
            return form.complete(form_state, ctx)
        except AppError as error:
            return [replies.text(replies.SERVICE_REFUSED.format(message=error.message))]
    form_state.awaiting = following.name
    return following.prompt(form_state, ctx)


def next_slot(form: Form, form_state: FormState) -> Slot | None:
    return next((slot for slot in form.slots if slot.name not in form_state.slots), None)


def prompt(form: Form, form_state: FormState, ctx: Context) -> list[Reply]:
    slot = next_slot(form, form_state)
    form_state.awaiting = slot.name
    return slot.prompt(form_state, ctx)


def explained(problem: Problem, form: Form, form_state: FormState, ctx: Context) -> list[Reply]:
    """Why a value was refused (which asks for it again), then the next missing slot's question if another."""
    slot_name, invalid = problem
    following = next_slot(form, form_state)
    if following is None or following.name == slot_name:
        form_state.awaiting = slot_name
        return list(invalid.replies)
    return list(invalid.replies) + prompt(form, form_state, ctx)


def reprompt(form: Form, form_state: FormState, ctx: Context) -> list[Reply]:
    slot = form.slot(form_state.awaiting)
    again = slot.reprompt or slot.prompt
    return [replies.text(replies.DID_NOT_UNDERSTAND), *again(form_state, ctx)]


def cancel(state: State, form: Form) -> Turn:
    state.form = None
    return Turn(form.name, [replies.text(replies.CANCELLED.format(form=replies.FORM_LABELS[form.name]))])
