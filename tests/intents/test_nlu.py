import datetime as dt
import json
import re
from collections import Counter
from pathlib import Path

import pytest
from stdnum.cn import ric

from backend.intents import nlu
from backend.intents.evaluation import evaluate_examples
from backend.intents.nlu import INTENTS, OUT_OF_SCOPE, Example, KeywordRules, Nlu, load_examples

UNSEEN_FILE = Path(__file__).parent / "data" / "unseen.jsonl"
UNSEEN = load_examples(UNSEEN_FILE)
HELD_OUT = load_examples(Path(__file__).parent / "data" / "heldout.jsonl")
TRAINING = load_examples(nlu.TRAINING_FILE)


def _bare(text: str) -> str:
    return re.sub(r"[\s\W_]+", "", text).lower()


@pytest.fixture(scope="module")
def model() -> Nlu:
    return nlu.load()


# --- the data ------------------------------------------------------------------------------------------------


def test_no_held_out_question_occurs_in_the_training_data():
    training = {_bare(example.text) for example in TRAINING}
    leaked = [example.text for example in UNSEEN if _bare(example.text) in training]
    assert leaked == []


def test_held_out_questions_cover_every_intent_and_plenty_of_out_of_scope_ones():
    counts = Counter(example.intent for example in HELD_OUT)
    assert set(counts) == set(INTENTS)
    assert min(counts[intent] for intent in INTENTS if intent != OUT_OF_SCOPE) >= 6
    assert counts[OUT_OF_SCOPE] >= 25


def test_no_question_of_the_newer_held_out_set_occurs_in_the_training_data():
    training = {_bare(example.text) for example in TRAINING}
    assert [example.text for example in HELD_OUT if _bare(example.text) in training] == []


def test_training_data_uses_only_catalogue_intents_with_enough_examples_each():
    counts = Counter(example.intent for example in TRAINING)
    assert set(counts) == set(INTENTS)
    assert min(counts.values()) >= 40


def test_data_files_are_json_lines_with_text_and_intent_only():
    for path in (nlu.TRAINING_FILE, UNSEEN_FILE, Path(__file__).parent / "data" / "heldout.jsonl"):
        for line in path.read_text(encoding="utf-8").splitlines():
            assert set(json.loads(line)) == {"text", "intent"}


# --- accuracy on questions never seen ------------------------------------------------------------------------


def test_unseen_questions_are_understood_at_least_nine_times_in_ten(model):
    assert evaluate_examples(UNSEEN, model).accuracy >= 0.90


def test_unseen_out_of_scope_questions_are_answered_as_out_of_scope_nine_times_in_ten(model):
    questions = [example for example in UNSEEN if example.intent == OUT_OF_SCOPE]
    recognised = [example for example in questions if model.understand(example.text).intent == OUT_OF_SCOPE]
    assert len(recognised) / len(questions) >= 0.90


@pytest.mark.parametrize("intent", sorted({example.intent for example in UNSEEN} - {OUT_OF_SCOPE}))
def test_each_intent_recognises_most_of_its_unseen_questions(model, intent):
    questions = [example.text for example in UNSEEN if example.intent == intent]
    missed = [text for text in questions if model.understand(text).intent != intent]
    assert len(missed) <= len(questions) // 5, missed


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("给我丈母娘开通家庭共济", "sharing_grant"),
        ("把我丈母娘的家庭共济取消", "sharing_revoke"),
        ("我丈母娘的家庭共济开通了没有", "sharing_list"),
        ("丈母娘能不能用我的个人账户", "account_policy"),
        ("今年门诊统筹额度还剩多少", "caps_remaining"),
        ("门诊统筹报销比例是多少", "benefit_policy"),
        ("门诊统筹花了两千能报多少", "benefit_estimate"),
        ("零星报销怎么申请", "reimbursement_apply"),
        ("零星报销要带哪些材料", "reimbursement_materials"),
        ("零星报销审核到哪一步了", "reimbursement_status"),
    ],
)
def test_confusable_neighbours_are_told_apart(model, text, intent):
    assert model.understand(text).intent == intent


# --- out of scope, ambiguity, ranking ------------------------------------------------------------------------


def test_a_message_far_from_every_intent_scores_highest_as_out_of_scope(model):
    text = "扫地机器人哪个牌子好"
    scores = model.scores(text)
    assert max(scores, key=scores.get) == OUT_OF_SCOPE
    assert model.understand(text).intent == OUT_OF_SCOPE


@pytest.mark.parametrize("text", ["", "   ", "？？？"])
def test_empty_or_punctuation_only_messages_are_out_of_scope(model, text):
    assert model.understand(text).intent == OUT_OF_SCOPE


def test_two_intents_trained_on_the_same_words_make_the_answer_ambiguous():
    tied = Nlu.from_examples(
        [Example("医保卡", "account_balance"), Example("医保卡", "account_history")], rules=KeywordRules({})
    )
    result = tied.understand("医保卡")
    assert {result.ranking[0].intent, result.ranking[1].intent} == {"account_balance", "account_history"}
    assert result.is_ambiguous


def test_a_bare_card_name_is_ambiguous_for_the_shipped_model(model):
    result = model.understand("医保卡")
    assert result.is_ambiguous
    assert result.confidence - result.ranking[1].confidence < model.thresholds.ambiguity_margin


def test_a_clear_question_is_not_ambiguous(model):
    result = model.understand("怎么取消家庭共济")
    assert result.intent == "sharing_revoke"
    assert not result.is_ambiguous


@pytest.mark.parametrize("text", ["你好", "医保卡里还有多少钱", "明天天气怎么样", "花了3000能报多少"])
def test_ranking_covers_every_intent_once_sorted_by_confidence(model, text):
    result = model.understand(text)
    assert sorted(score.intent for score in result.ranking) == sorted(INTENTS)
    confidences = [score.confidence for score in result.ranking]
    assert confidences == sorted(confidences, reverse=True)
    assert all(0.0 <= confidence <= 1.0 for confidence in confidences)
    assert sum(confidences) == pytest.approx(1.0, abs=0.01)
    assert (result.intent, result.confidence) == (result.ranking[0].intent, result.ranking[0].confidence)


# --- entities, serialisation, construction -------------------------------------------------------------------


def test_understanding_carries_the_entities_with_relative_dates_resolved(model):
    number = "64010419580315001" + ric.calc_check_digit("640104195803150010")
    result = model.understand(f"给我老婆开通共济 身份证{number} 昨天", today=dt.date(2024, 6, 15))
    assert result.intent == "sharing_grant"
    assert {(entity.type, entity.value) for entity in result.entities} == {
        ("relation", "spouse"),
        ("id_number", number),
        ("date", "2024-06-14"),
    }


def test_the_result_serialises_to_the_nlu_endpoint_shape(model):
    payload = model.understand("三甲医院花了三千块能报多少").as_dict()
    assert set(payload) == {"intent", "confidence", "is_ambiguous", "ranking", "entities"}
    assert payload["intent"] == "benefit_estimate"
    assert set(payload["ranking"][0]) == {"intent", "confidence"}
    assert {"type": "amount", "value": "3000.00", "text": "三千块", "start": 6, "end": 9} in payload["entities"]
    json.dumps(payload)  # plain JSON types only


def test_load_is_idempotent_and_understand_uses_the_loaded_model(model):
    assert nlu.load() is model
    assert nlu.understand("再见").intent == model.understand("再见").intent == "goodbye"


def test_a_model_built_from_other_examples_learns_them():
    examples = [Example(text, "account_balance") for text in ("卡里还有多少钱", "余额多少", "查余额")] + [
        Example(text, "greeting") for text in ("你好", "您好", "在吗")
    ]
    small = Nlu.from_examples(examples, rules=KeywordRules({}))
    assert small.understand("我卡里余额多少").intent == "account_balance"
    assert small.understand("你好呀").intent == "greeting"


def test_keyword_rules_refuse_intents_outside_the_catalogue():
    with pytest.raises(ValueError, match="unknown intents"):
        KeywordRules({"order_pizza": []})
