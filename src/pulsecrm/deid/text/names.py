"""PERSON: Chinese and English personal names.

Why anchors rather than a model: a name is a surname plus one or two given
characters, but so is half the language (高度, 金额, 黄金周). Clinic notes,
though, almost always anchor a name — by a title (王女士, 张伟医生), by a label
(姓名：, 联系人, 接诊医生), by a role or relation cue (患者, 客户, 其母亲), or by
the verb that follows it at the start of a clause (李娜来电咨询). The recogniser
accepts a surname candidate only with such an anchor, decides between one and
two given characters with a stop-character set and a common-word list, and,
for the weaker cues, rejects candidates that are ordinary words (患者高度近视).

jieba's POS tagger is available as an opt-in second opinion for the weak
candidates (``confirm_with_jieba=True``); it is off by default because it
costs far more than the whole pattern pass.

English names: a title (Mr/Mrs/Ms/Dr) or a label (Name:, Patient) followed by
capitalised tokens, or a known first name (Faker's en_US list) followed by a
capitalised surname.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from pulsecrm.deid.text.findings import PERSON, Finding
from pulsecrm.deid.text.name_lexicon import (
    COMPOUND_SURNAMES,
    ENGLISH_FIRST_NAMES,
    ENGLISH_TITLES,
    GIVEN_NAME_STOPS,
    RIGHT_CUES,
    SINGLE_SURNAMES,
    STRONG_CUES,
    TITLES,
    WEAK_CUES,
    common_words,
    is_function_word,
    is_ordinary_word,
)

_CJK = "\u4e00-\u9fff"
_SURNAME = "(?P<sur>" + "|".join(COMPOUND_SURNAMES) + "|[" + SINGLE_SURNAMES + "])"


def _alternation(words: tuple[str, ...]) -> str:
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


_TITLE = re.compile(_alternation(TITLES))
_SINGLE_SURNAME_SET = frozenset(SINGLE_SURNAMES)
_COMPOUND_SURNAME_SET = frozenset(COMPOUND_SURNAMES)
_CUED = re.compile(
    f"(?P<cue>{_alternation(STRONG_CUES + WEAK_CUES)})(?P<colon>[:： ]{{0,2}})"
    + _SURNAME
    + f"(?=[{_CJK}])"
)
_CLAUSE_BODY = _SURNAME + f"(?P<given>[{_CJK}]{{1,2}}?)(?:{_alternation(RIGHT_CUES)})"
_CLAUSE = re.compile(r"[,.;:!?。、\s(，；：！？（]" + _CLAUSE_BODY)
_CLAUSE_AT_START = re.compile(_CLAUSE_BODY)
_CJK_CHAR = re.compile(f"[{_CJK}]")
_UPPER_THEN_LOWER = re.compile("[A-Z][a-z]")
_STRONG = frozenset(STRONG_CUES)
_ALL_CUES = (*STRONG_CUES, *WEAK_CUES, "回访", "通知", "提醒", "致电", "联系", "告知", "请")
# a name alone in a field: after a colon, an enumeration comma or a tab, and before the
# next separator (到诊：王平，女 / 会诊人员：张伟、李娜 / 客户信息\t王强\t男)
_AFTER_LABEL = re.compile(
    r"[:：、\t] ?" + _SURNAME + f"(?P<given>[{_CJK}]{{1,2}}?)(?=[,(;，（；、\t\n ]|$)"
)
# 我姓王 / 免贵姓李: a surname on its own
_SURNAME_ONLY = re.compile(r"(?:我|免贵|本人|他|她|客户|患者)姓" + _SURNAME)
_DELIMITERS = frozenset(",.;:!?。、()\n\t \"'，；：！？（）")

_EN_WORD = r"[A-Z][a-z]*(?:['\-][A-Z]?[a-z]+)*"
_EN_TITLED = re.compile(
    r"(?:" + "|".join(ENGLISH_TITLES) + r")\.? "
    r"(?P<name>[A-Z][a-zA-Z'\-]+(?: [A-Z][a-zA-Z'\-]+){0,2})"
)
_EN_CUED = re.compile(
    r"(?i:name|patient|recipient|contact|spoke with|referral from|requested by"
    r"|seen by|saw|for)[: ]{1,3}(?P<name>" + _EN_WORD + "(?: " + _EN_WORD + "){1,2})"
)
_EN_PAIR = re.compile(r"(?P<first>[A-Z][a-z]+) (?P<last>[A-Z][a-z'\-]+)(?![A-Za-z])")
_EN_NOT_A_SURNAME = frozenset(
    {"Street", "Road", "Avenue", "Hospital", "Clinic", "Suite", "Apt", "Drive", "Lane", "Park"}
)


class NameRecogniser:
    """Chinese and English personal names (see module docstring)."""

    name = "names"
    types = frozenset({PERSON})

    def __init__(self, *, confirm_with_jieba: bool = False) -> None:
        self._confirm_with_jieba = confirm_with_jieba

    def find(self, text: str) -> list[Finding]:
        """Scan ``text`` (width-folded) for personal names."""
        findings: list[Finding] = []
        if _CJK_CHAR.search(text):
            findings.extend(self._titled(text))
            findings.extend(self._cued(text))
            findings.extend(self._clause(text))
            findings.extend(self._after_label(text))
            findings.extend(
                Finding(m.start("sur"), m.end("sur"), PERSON, 0.75)
                for m in _SURNAME_ONLY.finditer(text)
            )
        if _UPPER_THEN_LOWER.search(text):
            findings.extend(_english_names(text))
        return findings

    # ---- Chinese -----------------------------------------------------------------
    @staticmethod
    def _titled(text: str) -> list[Finding]:
        """Work leftwards from each title: 张伟|医生, 欧阳娜娜|女士, 王|主任."""
        found: list[Finding] = []
        for title in _TITLE.finditer(text):
            end = title.start()
            candidate = _name_before_title(text, end)
            if candidate is not None:
                start, given_length = candidate
                found.append(Finding(start, end, PERSON, 0.85 if given_length else 0.7))
        return found

    def _cued(self, text: str) -> list[Finding]:
        found: list[Finding] = []
        position = 0
        while True:
            match = _CUED.search(text, position)
            if match is None:
                return found
            start = match.start("sur")
            given_at = match.end("sur")
            given_length = _given_name_length(text, given_at)
            end = given_at + given_length
            strong = (
                match.group("cue") in _STRONG
                or ":" in match.group("colon")
                or "：" in match.group("colon")
            )
            accepted = given_length > 0 and (
                strong or self._plausible_weak_name(text, start, end, match.group("sur"))
            )
            if accepted:
                found.append(Finding(start, end, PERSON, 0.85 if strong else 0.7))
                position = end
            else:
                position = start  # the surname may itself begin the next cue (其母亲李利)
                if position <= match.start():
                    position = match.start() + 1

    def _clause(self, text: str) -> list[Finding]:
        found: list[Finding] = []
        matches = list(_candidates(_CLAUSE, text))
        at_start = _CLAUSE_AT_START.match(text)
        if at_start is not None:
            matches.append(at_start)
        for match in matches:
            start, end = match.start("sur"), match.end("given")
            if any(c in GIVEN_NAME_STOPS for c in match.group("given")):
                continue
            if self._plausible_weak_name(text, start, end, match.group("sur")):
                found.append(Finding(start, end, PERSON, 0.65))
        return found

    def _after_label(self, text: str) -> list[Finding]:
        """到诊：王平，女… — a name alone between a heading colon and a comma."""
        found: list[Finding] = []
        for match in _candidates(_AFTER_LABEL, text):
            start, end = match.start("sur"), match.end()
            given = match.group("given")
            if given.startswith(TITLES) or any(c in GIVEN_NAME_STOPS for c in given[:-1]):
                continue  # 赵女士 is a surname with a title, found by the title rule
            if self._plausible_weak_name(text, start, end, match.group("sur")):
                found.append(Finding(start, end, PERSON, 0.7))
        return found

    def _plausible_weak_name(self, text: str, start: int, end: int, surname: str) -> bool:
        """Reject 高度/张口-style words unless the candidate stands alone."""
        if len(surname) == 1 and end - start >= 2 and is_ordinary_word(text[start : start + 2]):
            return False
        if self._confirm_with_jieba:
            return _jieba_says_person(text, start, end)
        return True


def _candidates(pattern: re.Pattern[str], text: str) -> Iterator[re.Match[str]]:
    """Every match, overlapping ones included.

    ``finditer`` resumes after a match, so a rejected 容科王 (医学美容科王医生)
    would hide the real 王; restarting one character later keeps it. Accepted
    overlaps are settled later by the scrubber's overlap resolution.
    """
    position = 0
    while True:
        match = pattern.search(text, position)
        if match is None:
            return
        yield match
        position = match.start() + 1


def _name_before_title(text: str, title_start: int) -> tuple[int, int] | None:
    """(start, given length) of the name ending at ``title_start``, longest first."""
    for given_length in (2, 1, 0):
        given_start = title_start - given_length
        given = text[given_start:title_start]
        if given_start < 1 or any(
            not ("\u4e00" <= c <= "\u9fff") or c in GIVEN_NAME_STOPS for c in given
        ):
            continue
        for surname_length in (2, 1):
            start = given_start - surname_length
            if start < 0:
                continue
            surname = text[start:given_start]
            known = (
                surname in _COMPOUND_SURNAME_SET
                if surname_length == 2
                else surname in _SINGLE_SURNAME_SET
            )
            if not known:
                continue
            if (
                not given
                and surname_length == 1
                and start > 0
                and is_ordinary_word(text[start - 1] + surname)
                and not text.endswith(_ALL_CUES, 0, start)
            ):
                continue  # 主任医生, 值班医生, 开方医生: the "surname" ends another word
            return start, given_length
    return None


def _given_name_length(text: str, position: int) -> int:
    """One or two given-name characters after a surname at ``position``."""
    chars: list[str] = []
    for index in range(position, min(position + 2, len(text))):
        char = text[index]
        if not ("\u4e00" <= char <= "\u9fff"):
            break
        if char in GIVEN_NAME_STOPS and not _ends_clause(text, index + 1):
            break  # 王芳想做… ends at 芳; 钟想， keeps 想
        chars.append(char)
    if len(chars) == 2:
        following = text[position + 2] if position + 2 < len(text) else ""
        if text.startswith(TITLES, position + 1):
            return 1
        if following and chars[1] + following in common_words():
            return 1
        if is_function_word(chars[0] + chars[1]):
            return 1
    return len(chars)


def _ends_clause(text: str, position: int) -> bool:
    return position >= len(text) or text[position] in _DELIMITERS


def _jieba_says_person(text: str, start: int, end: int) -> bool:
    """Ask jieba whether the candidate is segmented as a person name (``nr``)."""
    import jieba.posseg

    window_start = max(0, start - 4)
    offset = window_start
    for token in jieba.posseg.lcut(text[window_start : end + 4]):
        token_start, token_end = offset, offset + len(token.word)
        offset = token_end
        if token_start <= start < token_end:
            return token.flag.startswith("nr")
    return False


# ---- English ---------------------------------------------------------------------
def _english_names(text: str) -> list[Finding]:
    found: list[Finding] = []
    for match in _EN_TITLED.finditer(text):
        if _starts_word(text, match.start()):
            found.append(Finding(match.start("name"), match.end("name"), PERSON, 0.85))
    for match in _EN_CUED.finditer(text):
        if _starts_word(text, match.start()):
            found.append(Finding(match.start("name"), match.end("name"), PERSON, 0.8))
    for match in _candidates(_EN_PAIR, text):
        if (
            _starts_word(text, match.start())
            and match.group("first") in ENGLISH_FIRST_NAMES
            and match.group("last") not in _EN_NOT_A_SURNAME
        ):
            found.append(Finding(match.start(), match.end(), PERSON, 0.75))
    return found


def _starts_word(text: str, position: int) -> bool:
    return position == 0 or not text[position - 1].isalpha()
