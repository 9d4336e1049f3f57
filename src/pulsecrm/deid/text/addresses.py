"""ADDRESS: Chinese postal addresses and English street addresses.

Why a component chain instead of a gazetteer: a Chinese address is a sequence
of named units, each ending in a suffix that says what it is — 省, 市, 区/县,
镇/乡, 路/街/大道/巷/弄, 号, 栋/幢/座, 单元, 室 — and real addresses skip levels
freely (朝阳区建国路88号SOHO现代城B座1205室). No place-name list covers every
road or estate, but the suffixes are closed-class. So the recogniser splits the
note into punctuation-free runs, trims everything up to a cue (住址, 家住, 寄到…),
reads consecutive components, and reports the chain only when it carries real
address evidence: a road with a house number, a numbered building/room, or two
administrative levels. Hospital names (杭州市第一人民医院) end in no such chain.
"""

from __future__ import annotations

import re

from faker.providers.address.en_US import Provider as _FakerUsAddress

from pulsecrm.deid.text.findings import ADDRESS, Finding

_RUN = re.compile(r"[\u4e00-\u9fffA-Za-z0-9#\-]{3,}")
_HAS_SUFFIX = re.compile(r"[省市区县镇乡村路街巷弄号栋幢座元室楼]")
# cheap evidence that a run may hold an address: a house/building/room number, or
# two administrative or road units close together (市…区, 区…路); runs without it
# (prices in 元, 病历号, 杭州市第一人民医院) are skipped before any parsing
_EVIDENCE = re.compile(
    r"[0-9](?:号|栋|幢|室|单元|弄|组)|[A-Za-z]座"
    r"|[省市区县旗镇乡][^,，。;；:：\s市区县旗镇乡村路街道巷]{0,10}+[市区县旗镇乡村路街道巷]"
)
_ADMIN_SUFFIXES = (
    "特别行政区",
    "自治区",
    "自治州",
    "省",
    "市",
    "地区",
    "盟",
    "区",
    "县",
    "旗",
    "街道",
    "镇",
    "乡",
    "村",
)
_ROAD_SUFFIXES = ("大道", "大街", "路", "街", "巷", "弄", "胡同")
_COMPONENT = re.compile(
    r"[\u4e00-\u9fffA-Za-z0-9\-]{0,9}?"
    r"(?P<suffix>特别行政区|自治区|自治州|省|市|地区|盟|区|县|旗|街道|镇|乡|村|组|大道|大街|路|街|巷|弄|胡同"
    r"|号院|号楼|号|栋|幢|座|塔|单元|层|楼|室|户|小区|花园|苑|公寓|大厦|广场|园区|园|城|家园|中心)"
)
_NUMBERED = re.compile(
    r"[0-9A-Za-z一二三四五六七八九十]+(?:号院|号楼|号|栋|幢|座|单元|层|楼|室|户|弄|组)$"
)
_HOUSE_NUMBER = re.compile(r"^[0-9\-]+(?:号|弄)")
_CUES = (
    "家庭住址",
    "户籍地址",
    "户籍",
    "现住址",
    "住址",
    "地址",
    "家住",
    "住在",
    "现住",
    "居住",
    "寄到",
    "寄至",
    "寄往",
    "送到",
    "送至",
    "位于",
    "来自",
    "住",
    "在",
    "到",
    "于",
    "是",
    "为",
)
_NEXT_ADDRESS_CUE = re.compile("|".join(cue for cue in _CUES if len(cue) > 1))
_LONGEST_CUE = max(len(cue) for cue in _CUES)
_MAX_LEAD = 40  # an address starts at most this far before its first evidence
_CUE_PATTERN = re.compile("|".join(sorted(_CUES, key=len, reverse=True)))
_INSTITUTION_FOLLOWERS = (
    "医院",
    "人民",
    "中医",
    "卫生",
    "疾控",
    "妇幼",
    "第",
    "政府",
    "公安",
    "法院",
    "口腔",
    "医",
)
_STREET_SUFFIXES_ABBREVIATED = (
    "Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Court|Ct|Place|Pl|Way|Terrace"
    "|Highway|Hwy|Parkway|Pkwy|Square|Sq|Circle|Cir|Trail|Alley|Bridge|Brook|Burg|Bypass|Camp"
    "|Canyon|Cape|Causeway|Center|Cliffs?|Club|Common|Corners?|Course|Courts|Coves?|Creek"
    "|Crescent|Crest|Crossing|Crossroad|Curve|Dale|Dam|Divide|Drives|Estates?|Expressway"
    "|Extensions?|Falls?|Ferry|Fields?|Flats?|Fords?|Forest|Forges?|Forks?|Fort|Freeway"
    "|Gardens?|Gateway|Glens?|Greens?|Groves?|Harbors?|Haven|Heights|Hills?|Hollow|Inlet"
    "|Islands?|Isle|Junctions?|Keys?|Knolls?|Lakes?|Land|Landing|Lights?|Loaf|Locks?|Lodge"
    "|Loop|Mall|Manors?|Meadows?|Mews|Mills?|Mission|Motorway|Mount|Mountains?|Neck|Orchard"
    "|Oval|Overpass|Parks?|Parkways|Pass|Passage|Path|Pike|Pines?|Plains?|Plaza|Points?"
    "|Ports?|Prairie|Radial|Ramp|Ranch|Rapids?|Rest|Ridges?|River|Roads|Route|Row|Rue|Run"
    "|Shoals?|Shores?|Skyway|Springs?|Spurs?|Squares|Station|Stravenue|Streams?|Streets"
    "|Summit|Throughway|Trace|Track|Trafficway|Tunnel|Turnpike|Underpass|Unions?|Valleys?"
    "|Via|Viaducts?|Views?|Villages?|Ville|Vista|Walks?|Wall|Ways|Wells?"
)
_DIGIT_SPACE_CAPITAL = re.compile(r"\d [A-Z]")
_STREET_SUFFIXES = "|".join(
    sorted(
        set(_FakerUsAddress.street_suffixes) | set(_STREET_SUFFIXES_ABBREVIATED.split("|")),
        key=len,
        reverse=True,
    )
)
_ENGLISH_ADDRESS = re.compile(
    r"(?<![0-9A-Za-z])\d{1,6} (?:[A-Z][A-Za-z'.\-]* ){1,3}(?:" + _STREET_SUFFIXES + r")\b\.?"
    r"(?: (?:Apt\.?|Suite|Unit|#) ?[0-9A-Za-z\-]+)?"
    r"(?:, (?!(?:Apt|Suite|Unit)\b)[A-Z][A-Za-z'\-]*(?: [A-Z][A-Za-z'\-]*){0,2})?"
    r"(?:, [A-Z]{2} \d{5}(?:-\d{4})?)?"
)


class AddressRecogniser:
    """Chinese component-chain addresses and English street addresses."""

    name = "addresses"
    types = frozenset({ADDRESS})

    def find(self, text: str) -> list[Finding]:
        """Scan ``text`` (width-folded) for addresses."""
        findings: list[Finding] = []
        if _EVIDENCE.search(text) is None:
            runs: list[re.Match[str]] = []
        else:
            runs = list(_RUN.finditer(text))
        for run in runs:
            findings.extend(_chinese_addresses_in_run(text, run.group(), run.start()))
        if _DIGIT_SPACE_CAPITAL.search(text):
            findings.extend(
                Finding(m.start(), _english_end(m), ADDRESS, 0.8)
                for m in _ENGLISH_ADDRESS.finditer(text)
            )
        return findings


def _english_end(match: re.Match[str]) -> int:
    """Keep the period of "St." but not the full stop after "Road."."""
    value = match.group()
    if value.endswith(".") and len(value[:-1].rsplit(" ", 1)[-1]) > 4:
        return match.end() - 1
    return match.end()


def _chinese_addresses_in_run(text: str, run: str, offset: int) -> list[Finding]:
    """Every address in one punctuation-free run (a run may hold 住址…现住址… back to back).

    Each step starts at most ``_MAX_LEAD`` characters before the next piece of
    evidence and always moves past it, so a long run costs linear time.
    """
    found: list[Finding] = []
    position = 0
    while True:
        evidence = _EVIDENCE.search(run, position)
        if evidence is None:
            return found
        start = max(position, evidence.start() - _MAX_LEAD)
        address, parsed_to = _chinese_address_at(text, run, offset, start)
        if address is not None:
            found.append(address)
        position = max(parsed_to, evidence.end())


def _chinese_address_at(
    text: str, run: str, offset: int, from_index: int
) -> tuple[Finding | None, int]:
    """The address chain starting at or after ``from_index``; also where parsing stopped."""
    first_suffix = _HAS_SUFFIX.search(run, from_index)
    if first_suffix is None:
        return None, len(run)
    start, cued = _trim_cue(run, from_index, first_suffix.start())
    position = start
    components: list[tuple[str, str]] = []
    while position < len(run):
        match = _COMPONENT.match(run, position)
        if match is None or _cue_starts_within(run, position, match.end()):
            break  # …88号现住址上海市…: a new address begins
        components.append((match.group(), match.group("suffix")))
        position = match.end()
    if len(components) < 2:
        return None, position
    score = _evidence_score(components, cued)
    if score == 0.0:
        return None, position
    end = offset + position
    if text.startswith(_INSTITUTION_FOLLOWERS, end) and not _has_house_number(components):
        return None, position
    return Finding(offset + start, end, ADDRESS, score), position


def _cue_starts_within(run: str, start: int, end: int) -> bool:
    """A multi-character cue (现住址, 户籍…) starting in ``run[start:end]``."""
    cue = _NEXT_ADDRESS_CUE.search(run, start, end + _LONGEST_CUE - 1)
    return cue is not None and cue.start() < end


def _trim_cue(run: str, from_index: int, first_suffix: int) -> tuple[int, bool]:
    """Start after the right-most cue word that ends before the first suffix."""
    best = from_index
    cued = False
    for cue in _CUE_PATTERN.finditer(run, from_index, first_suffix):
        best, cued = cue.end(), True
    return best, cued


def _has_house_number(components: list[tuple[str, str]]) -> bool:
    return any(_HOUSE_NUMBER.match(part) for part, _ in components)


def _evidence_score(components: list[tuple[str, str]], cued: bool) -> float:
    admin_levels = sum(1 for _, suffix in components if suffix in _ADMIN_SUFFIXES)
    has_road = any(suffix in _ROAD_SUFFIXES for _, suffix in components)
    numbered = sum(1 for part, _ in components if _NUMBERED.search(part))
    if has_road and _has_house_number(components):
        return 0.9
    if numbered and (admin_levels or has_road or numbered >= 2):
        return 0.85
    if admin_levels >= 2 or (has_road and admin_levels):
        return 0.8 if cued else 0.6
    return 0.0
