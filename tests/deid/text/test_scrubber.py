"""The scrub API: operators, overlap resolution, type filters and character offsets."""

from __future__ import annotations

from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pulsecrm.deid.text import ALL_TYPES, Finding, ScrubResult, find_pii, scrub
from pulsecrm.deid.text.normalisation import fold_width
from pulsecrm.deid.text.scrubber import resolve_overlaps

pytestmark = pytest.mark.req("E3")

NOTE = (
    "患者张伟先生，电话138 1234 5678，身份证11010519491231002X，住址浙江省杭州市西湖区文三路90号。"
)


def test_replace_is_the_default_operator() -> None:
    result = scrub(NOTE)
    assert isinstance(result, ScrubResult)
    assert result.text == "患者<PERSON>先生，电话<PHONE>，身份证<ID_NUMBER>，住址<ADDRESS>。"
    assert [f.type for f in result.findings] == ["PERSON", "PHONE", "ID_NUMBER", "ADDRESS"]


def test_findings_index_the_input_text() -> None:
    result = scrub(NOTE)
    assert [NOTE[f.start : f.end] for f in result.findings] == [
        "张伟",
        "138 1234 5678",
        "11010519491231002X",
        "浙江省杭州市西湖区文三路90号",
    ]
    assert all(0.0 <= f.score <= 1.0 for f in result.findings)


def test_mask_keeps_length_and_last_four() -> None:
    result = scrub("电话138-1234-5678，身份证11010519491231002X", operator="mask")
    assert result.text == "电话***-****-5678，身份证**************002X"


def test_mask_keeps_surname_and_email_domain() -> None:
    assert scrub("联系人：李小龙", operator="mask").text == "联系人：李**"
    assert scrub("邮箱 lina@163.com", operator="mask").text == "邮箱 l***@163.com"


def test_redact_removes_spans() -> None:
    assert scrub("手机13812345678，谢谢", operator="redact").text == "手机，谢谢"


def test_pseudonym_is_consistent_within_a_document_across_spellings() -> None:
    text = "电话13812345678，备用电话138 1234 5678，家属电话13900001111"
    tokens = [part for part in scrub(text, operator="pseudonym", key=b"k1").text.split("，")]
    first, second, third = (t[t.index("<") :] for t in tokens)
    assert first == second
    assert first != third
    assert first.startswith("<PHONE_")


def test_pseudonym_depends_on_the_key() -> None:
    text = "电话13812345678"
    assert (
        scrub(text, operator="pseudonym", key=b"k1").text
        == scrub(text, operator="pseudonym", key=b"k1").text
    )
    assert (
        scrub(text, operator="pseudonym", key=b"k1").text
        != scrub(text, operator="pseudonym", key=b"k2").text
    )
    assert "13812345678" not in scrub(text, operator="pseudonym", key=b"k1").text


def test_pseudonym_without_key_is_still_consistent_within_one_call() -> None:
    text = "电话13812345678，再次确认13812345678"
    first, second = scrub(text, operator="pseudonym").text.split("，")
    assert first[first.index("<") :] == second[second.index("<") :]


def test_unknown_operator_and_type_are_rejected() -> None:
    with pytest.raises(ValueError, match="operator"):
        scrub(NOTE, operator="shred")
    with pytest.raises(ValueError, match="NOT_A_TYPE"):
        scrub(NOTE, types={"NOT_A_TYPE"})


def test_types_filter() -> None:
    result = scrub(NOTE, types={"PHONE", "ID_NUMBER"})
    assert {f.type for f in result.findings} == {"PHONE", "ID_NUMBER"}
    assert "张伟" in result.text


def test_offsets_with_emoji_and_full_width_characters() -> None:
    text = "😀👩‍⚕️客户：王芳（手机１３８１２３４５６７８），邮箱ｆａｎｇ@qq.com"
    findings = find_pii(text)
    assert [(f.type, text[f.start : f.end]) for f in findings] == [
        ("PERSON", "王芳"),
        ("PHONE", "１３８１２３４５６７８"),
        ("EMAIL", "ｆａｎｇ@qq.com"),
    ]
    assert fold_width(text) != text and len(fold_width(text)) == len(text)


def test_overlaps_resolve_by_score_then_length_deterministically() -> None:
    candidates = [
        Finding(0, 10, "PHONE", 0.6),
        Finding(2, 8, "ID_NUMBER", 0.9),
        Finding(9, 12, "PERSON", 0.7),
        Finding(20, 30, "EMAIL", 0.5),
        Finding(20, 25, "URL", 0.5),
    ]
    kept = resolve_overlaps(candidates)
    assert kept == [
        Finding(2, 8, "ID_NUMBER", 0.9),
        Finding(9, 12, "PERSON", 0.7),
        Finding(20, 30, "EMAIL", 0.5),
    ]
    assert resolve_overlaps(reversed(candidates)) == kept


def test_all_types_are_named_as_specified() -> None:
    assert set(ALL_TYPES) == (
        {
            "PHONE",
            "ID_NUMBER",
            "PASSPORT",
            "HK_MO_TW_PERMIT",
            "BANK_CARD",
            "EMAIL",
            "URL",
            "IP",
            "WECHAT_ID",
            "DATE_OF_BIRTH",
            "MEDICAL_RECORD",
            "ADDRESS",
            "PERSON",
        }
    )


def test_very_long_text_scrubs_linearly() -> None:
    text = ("患者张伟先生，电话13812345678。" + "无特殊。" * 50) * 400
    result = scrub(text)
    assert result.text.count("<PHONE>") == 400
    assert "13812345678" not in result.text


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=200))
def test_findings_are_sorted_non_overlapping_and_inside_the_text(text: str) -> None:
    findings = find_pii(text)
    for finding in findings:
        assert 0 <= finding.start < finding.end <= len(text)
    for left, right in pairwise(findings):
        assert left.end <= right.start
    assert len(scrub(text, operator="mask").text) == len(text)


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet="0123456789 +-()（）１３８转号码电话手机身份证X", max_size=80))
def test_number_heavy_text_never_breaks_the_scrubber(text: str) -> None:
    result = scrub(text)
    assert isinstance(result.text, str)
