import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from backend.intents import tokenizer

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def test_load_returns_the_same_tokenizer_every_time_and_is_cheap_the_second_time():
    first = tokenizer.load()
    started = time.perf_counter()
    second = tokenizer.load()
    assert second is first
    assert time.perf_counter() - started < 0.01


def test_concurrent_first_loads_build_the_tokenizer_once(monkeypatch):
    builds = []
    real_build = tokenizer._build

    def slow_counting_build():
        builds.append(threading.get_ident())
        time.sleep(0.05)  # widen the window in which a second thread could slip past the check
        return real_build()

    monkeypatch.setattr(tokenizer, "_tokenizer", None)
    monkeypatch.setattr(tokenizer, "_build", slow_counting_build)
    results = []
    threads = [threading.Thread(target=lambda: results.append(tokenizer.load())) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(builds) == 1
    assert len(results) == 8 and all(result is results[0] for result in results)


@pytest.mark.parametrize(
    ("sentence", "domain_word"),
    [
        ("我想给我老婆开通家庭共济", "家庭共济"),
        ("门诊统筹起付线是多少", "门诊统筹"),
        ("门诊统筹起付线是多少", "起付线"),
        ("今年的起付标准够了吗", "起付标准"),
        ("个人账户还有多少钱", "个人账户"),
        ("零星报销要什么材料", "零星报销"),
        ("手工报销去哪办", "手工报销"),
        ("怎么打印结算清单", "结算清单"),
        ("慢特病怎么认定", "慢特病"),
        ("统筹基金付了多少", "统筹基金"),
        ("去三甲医院看病", "三甲"),
        ("医保卡丢了", "医保卡"),
    ],
)
def test_domain_words_stay_single_tokens(sentence, domain_word):
    assert domain_word in tokenizer.cut(sentence)


def test_our_tokenizer_is_private_and_leaves_jiebas_default_alone():
    jieba = tokenizer.import_jieba()
    assert tokenizer.load() is not jieba.dt


def test_loading_prints_nothing_and_raises_no_warning():
    # A fresh interpreter, because jieba warns and logs only on the first import / initialise of a process.
    script = "from backend.intents import tokenizer; print(tokenizer.cut('家庭共济'))"
    completed = subprocess.run(
        [sys.executable, "-W", "error", "-c", script],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stderr == ""
    assert completed.stdout.strip() == "['家庭共济']"
