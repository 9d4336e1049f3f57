"""SMS reply keywords (C2): what withdraws, and what deliberately does not."""

from __future__ import annotations

import pytest

from pulsecrm.consent.keywords import is_unsubscribe


@pytest.mark.req("C2", "B9")
@pytest.mark.parametrize(
    "text",
    [
        "退订",
        "TD",
        "td",
        "t",
        "T",
        "n",
        "N.",
        "Stop",
        "STOP",
        "unsubscribe",
        "Unsubscribe me",
        "请帮我退订谢谢",
        "回复TD",
        "别再发了",
        "拒收",
        "取消订阅",
        "STOP please",
        "opt out",
        "ＴＤ",
        " 退订！",
        "quit",
        "CANCEL",
    ],
)
def test_unsubscribe_replies_are_recognised(text: str) -> None:
    assert is_unsubscribe(text)


@pytest.mark.req("C2")
@pytest.mark.parametrize(
    "text",
    [
        "TDD",
        "NOT NOW",
        "不退订",
        "不要退订",
        "好的，谢谢",
        "T恤打折吗",
        "stopwatch",
        "Yes",
        "cancel my appointment tomorrow",
        "see you at the end of May",
        "",
        "Plan N please",
    ],
)
def test_ordinary_replies_do_not_unsubscribe(text: str) -> None:
    assert not is_unsubscribe(text)
