"""Labelled evaluation corpus of synthetic consultation notes (Chinese and English).

Why this exists: a recogniser is only as good as the notes it is measured on.
The templates below were written first, the way front-desk staff, online
consultants (网电咨询) and clinicians actually write — run-on sentences,
mixed punctuation, phones typed in every spelling, surnames with titles
(王女士) — and only then were the recognisers built. They include hard
negatives that a naive pattern set trips over: order numbers, prices, visit
dates, drug doses, tooth numbers, hospital names and everyday words that start
with a surname character (高度近视, 张口受限, 黄金周 …).

Each placeholder in a template is either a PII slot (UPPER case, becomes a gold
span) or a filler slot (lower case, realistic non-PII text). Generation is
fully deterministic for a given seed so the committed JSONL can be rebuilt
with ``python -m pulsecrm.deid.text.corpus <path>``.
"""

from __future__ import annotations

import json
import random
import re
import string
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from faker import Faker

DEFAULT_SEED = 20240611
DEFAULT_ZH_NOTES = 1700
DEFAULT_EN_NOTES = 500


@dataclass(frozen=True, slots=True)
class GoldSpan:
    """A labelled PII span: character offsets into the note text."""

    type: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class LabelledNote:
    """One synthetic note with its gold PII spans."""

    text: str
    spans: tuple[GoldSpan, ...]
    lang: str
    template_id: str

    def to_json(self) -> str:
        """One JSON line; offsets are Python ``str`` indices."""
        return json.dumps(
            {
                "text": self.text,
                "lang": self.lang,
                "template": self.template_id,
                "spans": [{"type": s.type, "start": s.start, "end": s.end} for s in self.spans],
            },
            ensure_ascii=False,
        )

    @staticmethod
    def from_json(line: str) -> LabelledNote:
        """Parse one line written by :meth:`to_json`."""
        raw = json.loads(line)
        spans = tuple(GoldSpan(s["type"], s["start"], s["end"]) for s in raw["spans"])
        return LabelledNote(raw["text"], spans, raw["lang"], raw["template"])


# --------------------------------------------------------------------------------------
# Templates. UPPER-case slots are PII (see PII_SLOT_TYPES); lower-case slots are filler.
# --------------------------------------------------------------------------------------

ZH_TEMPLATES: tuple[str, ...] = (
    # 网电咨询记录
    "【网电咨询记录】客户{PERSON}女士，电话{PHONE}，微信{WECHAT}"
    "，咨询{project}，报价{price}，意向{visit_date}到院面诊。",
    "网电咨询：{SURNAME}先生通过{channel}留资，手机{PHONE}，想了解"
    "{project}，预算{price}左右，已加微信，约{visit_date}面诊。",
    "客户{PERSON}来电咨询{project}，问是否能分期，告知首付{price}，来电号码{PHONE}，已登记。",
    "{channel}留资：{SURNAME}女士 {PHONE}，咨询"
    "{project}，顾问{PERSON}跟进，客户说{weekday}下午有空。",
    "咨询记录\n姓名：{PERSON}\n性别：{gender}\n年龄：{age}岁\n电话："
    "{PHONE}\n微信号：{WECHAT}\n咨询项目：{project}\n备注：{remark}",
    "客户VX：{WECHAT}，称朋友在我院做过{project}效果不错，想约{visit_date}过来看看，电话暂未留。",
    "网电：客户微信同手机号{PHONE}，咨询{project}价格，已发{price}套餐链接，{PERSON}负责跟进。",
    # 回访记录
    "回访记录：{visit_date}电话回访{SURNAME}先生（{PHONE}"
    "），术后第{count}天，{recovery}，嘱{advice}。",
    "术后回访：{SURNAME}女士反馈{tooth}号牙冠有轻微松"
    "动，已预约{visit_date}复诊，接诊医生{PERSON}。",
    "{visit_date}回访患者{PERSON}，{recovery}，患"
    "者表示满意，下次复查时间{visit_date}。回访人：{PERSON}",
    "回访未接通，号码{PHONE}，改发短信提醒{visit_date}复查。",
    "三次回访：患者{PERSON}，手机{PHONE}，第{count}疗程后{recovery}，建议继续{project}。",
    # 到诊登记
    "到诊登记：姓名：{PERSON}；性别：{gender}；出生日期：{DOB}；身"
    "份证号：{ID}；手机：{PHONE}；门诊号：{MRN}；就诊科室：{dept}。",
    "到诊：{PERSON}，{gender}，{age}岁，身份证{ID}，住址{ADDRESS}，主诉：{complaint}。",
    "患者{PERSON}，{gender}，{age}岁，身份证号{ID}，联"
    "系电话{PHONE}，住址{ADDRESS}。主诉：{complaint}。",
    "初诊登记 病历号：{MRN} 患者：{PERSON} 生日：{DOB} 电话：{PHONE} 过敏史：{allergy}",
    "{visit_date}到院，{PERSON}由其{relation}{PERSON}陪同，"
    "{dept}{SURNAME}医生接诊，诊断：{diagnosis}，建议{treatment}。",
    "患者于{visit_date}来院就诊，{hospital}{dept}，门诊号{MRN}，诊断{diagnosis}，处方：{drug}。",
    # 病历 / 医嘱
    "主诉：{complaint}。现病史：患者{PERSON}自述{duration}"
    "前出现{symptom}，{history}。既往史：{allergy}。",
    "患者高度近视{count}年，要求行{project}，术前检查已完"
    "成，身份证号码：{ID}，联系人{PERSON}，电话{PHONE}。",
    "查体：张口受限，{tooth}叩痛（+），牙龈红肿。处理：{treatment}。医嘱：{drug}。医生：{PERSON}",
    "住院号{MRN}，患者{PERSON}，入院日期{visit_date}，"
    "{dept}，{count}床。家属{PERSON}，电话{LANDLINE}。",
    "出院小结：{PERSON}，住院号：{MRN}，{diagnosis}，住"
    "院{count}天，出院带药{drug}，{visit_date}门诊复查。",
    "处方：{drug}；{drug}。开方医生：{PERSON}，审核药师：{PERSON}。费用{price}。",
    # 问卷
    "问卷编号{order_no}。1. 您的姓名：{PERSON} 2. 手机号码：{PHONE} 3"
    ". 电子邮箱：{EMAIL} 4. 过敏史：{allergy} 5. 了解渠道：{channel}",
    "满意度问卷：姓名 {PERSON}；联系电话 {PHONE}；就诊日期 "
    "{visit_date}；满意度 {count}分；意见：{remark}",
    "术前问卷：出生日期：{DOB}，身高{height}cm，体重{weight}kg，"
    "是否吸烟：否，紧急联系人：{PERSON}（{relation}），{PHONE}。",
    "健康问卷 — 邮箱：{EMAIL}；微信：{WECHAT}；是否有高血压：无；是否服用抗凝药：{drug}。",
    # 财务 / 订单
    "退款申请：订单号{order_no}，金额{price}，退款账户{BANK}（{bank_name}），开户人{PERSON}。",
    "收费记录：{project}，原价{price}，折后{price}，订单"
    "{order_no}，客户{SURNAME}女士刷卡支付，卡号{BANK}。",
    "分期付款：客户{PERSON}，身份证{ID}，银行卡{BANK}，分{count}期，每期{price}。",
    "储值卡充值{price}，赠送{project}一次，会员卡号{order_no}，手机尾号{digits4}。",
    # 证件
    "港澳客户{PERSON}，港澳通行证{HK_PERMIT}，内地手机{PHONE}，预约{visit_date}做{project}。",
    "台湾客户{SURNAME}先生，台胞证号码：{TW_PERMIT}，联系电话{PHONE}，咨询{project}。",
    "香港居民{PERSON}持回乡证{HOME_RETURN}登记，电话{INTL_PHONE_ZH}，{project}。",
    "外籍客户，护照号{PASSPORT}，邮箱{EMAIL}，由翻译{PERSON}陪同到院。",
    "客户出国前来补牙，护照：{PASSPORT}，出生日期{DOB}，{tooth}充填，费用{price}。",
    # 地址 / 快递
    "家庭住址：{ADDRESS}，快递收件人{PERSON}，电话{PHONE}，寄送{project}术后护理包。",
    "客户要求把发票寄到{ADDRESS}，收件人{SURNAME}女士，{PHONE}。",
    "现住址：{ADDRESS}；户籍地址：{ADDRESS}。",
    "客户家住{ADDRESS}，离我院约{count}公里，建议{weekday}上午来。",
    # 线上 / 技术
    "客户在官网{URL}提交预约，IP地址{IP}，留言：想做{project}，手机{PHONE}。",
    "小程序预约日志：用户IP {IP}，来源{URL}，预约{visit_date} {time}。",
    "客户发邮件到{EMAIL}询问{project}报价，已回复，附件为{price}套餐说明。",
    # 投诉 / 转介绍 / 陪同
    "投诉记录：客户{PERSON}于{visit_date}来电（{LANDLINE}）"
    "投诉{project}效果不满意，要求退款{price}。处理人：{PERSON}。",
    "转介绍：老客户{PERSON}推荐朋友{PERSON}，电话{PHONE}，赠送{project}一次。",
    "今日{PERSON}携女儿到诊，女儿{age}岁，{complaint}，{dept}{SURNAME}主任会诊。",
    "{SURNAME}老师来电说{weekday}改约，新预约{visit_date} {time}，电话{PHONE}。",
    "患者{PERSON}今日复诊，{recovery}，下次{visit_date}。",
    # 纯负例（无 PII，检查误报）
    "黄金周活动：{project}立减{price}，活动时间{visit_date}至{visit_date}，限量{count}名。",
    "科室通知：{hospital}{dept}{weekday}停诊，请前台告"
    "知已预约客户改期，订单号{order_no}等{count}单需重新排期。",
    "白色念珠菌感染，予{drug}，{tooth}根管治疗第{count}次，王牌项目{project}本月{price}。",
    "金额合计{price}，其中{project}{price}，高度评价本次服务，方案已确认。",
    "{weekday}{hospital}专家{dept}门诊，挂号费{price}，预约电话见官网，批号{order_no}。",
    "医嘱：{drug}，连续{count}天；{tooth}拔除术后{count}小时内勿漱口。",
    # 混合
    "患者信息核对：{PERSON}，身份证后四位{digits4}，手机{PHONE}，病历号{MRN}，核对无误。",
    "{PERSON}（{gender}，{age}岁）生日{DOB}，微信号{WECHAT}，邮箱{EMAIL}，想做{project}。",
    "联系人：{PERSON}，联系方式：{LANDLINE}，地址：{ADDRESS}",
    "{relation}{PERSON}代为咨询，其{relation}{PERSON}"
    "出生于{DOB}，拟{visit_date}入院，电话{PHONE}。",
    "客户说身份证是{ID}，手机{PHONE}，要求开电子发票到{EMAIL}。",
)

EN_TEMPLATES: tuple[str, ...] = (
    "Intake note: Patient {EN_PERSON}, DOB {EN_DOB}, phone "
    "{INTL_PHONE}, email {EMAIL}. Chief complaint: {en_complaint}.",
    "Follow-up call with Mr {EN_SURNAME} on {en_visit_date}"
    ": {en_recovery}. Next review in {count} weeks.",
    "Name: {EN_PERSON}\nDate of birth: {EN_DOB}\nAddre"
    "ss: {EN_ADDRESS}\nPhone: {INTL_PHONE}\nMRN: {MRN}",
    "Dr. {EN_SURNAME} saw {EN_PERSON} today for "
    "{en_complaint}; prescribed {en_drug}. Visit no. {MRN}.",
    "Ms {EN_PERSON} called from {INTL_PHONE} to reschedule her {en_project} to {en_visit_date}.",
    "Questionnaire #{order_no}: name {EN_PERSON}; email"
    " {EMAIL}; WeChat {WECHAT}; allergies: {en_allergy}.",
    "Patient was born on {EN_DOB} and lives at {EN_ADDRESS}. Contact {INTL_PHONE}.",
    "{EN_PERSON} (passport {PASSPORT}) booked {en_project}"
    " for {en_visit_date}, deposit {en_price}.",
    "Refund to card {BANK} requested by {EN_PERSON}, order {order_no}, amount {en_price}.",
    "Online booking from {URL} (IP {IP}); contact email {EMAIL}, phone {INTL_PHONE}.",
    "Consultation summary: {en_complaint} for {count} m"
    "onths. Plan: {en_project}. Seen by Dr {EN_PERSON}.",
    "Mrs {EN_SURNAME} reports {en_recovery} after tooth {tooth_en} extraction on {en_visit_date}.",
    "Emergency contact: {EN_PERSON} ({en_relation}), {INTL_PHONE}. Patient DOB: {EN_DOB}.",
    "Visit date {en_visit_date}. Order {order_no}, inv"
    "oice total {en_price}, {count} sessions remaining.",
    "New lead via {en_channel}: {EN_PERSON}, {EMAIL}"
    ", interested in {en_project}. Budget {en_price}.",
    "Shipping address for aftercare kit: {EN_ADDRESS}. Recipient {EN_PERSON}.",
    "Patient {EN_PERSON}, MRN {MRN}, admitted {en_visit_date} to {en_dept}; {en_drug} started.",
    "Chinese ID {ID} on file for {EN_PERSON}; mobile {PHONE}.",
    "Spoke with {EN_PERSON} about {en_project}. She prefers WeChat: {WECHAT}.",
    "Post-op check {en_visit_date}: {en_recovery}. Dose {en_drug}. No identifiers recorded.",
    "Referral from Dr {EN_SURNAME} at {en_hospital}; server log IP {IP}.",
)

#: gold type for each PII slot
PII_SLOT_TYPES: dict[str, str] = {
    "PERSON": "PERSON",
    "SURNAME": "PERSON",
    "EN_PERSON": "PERSON",
    "EN_SURNAME": "PERSON",
    "PHONE": "PHONE",
    "LANDLINE": "PHONE",
    "INTL_PHONE": "PHONE",
    "INTL_PHONE_ZH": "PHONE",
    "ID": "ID_NUMBER",
    "PASSPORT": "PASSPORT",
    "HK_PERMIT": "HK_MO_TW_PERMIT",
    "TW_PERMIT": "HK_MO_TW_PERMIT",
    "HOME_RETURN": "HK_MO_TW_PERMIT",
    "BANK": "BANK_CARD",
    "EMAIL": "EMAIL",
    "URL": "URL",
    "IP": "IP",
    "WECHAT": "WECHAT_ID",
    "DOB": "DATE_OF_BIRTH",
    "EN_DOB": "DATE_OF_BIRTH",
    "MRN": "MEDICAL_RECORD",
    "ADDRESS": "ADDRESS",
    "EN_ADDRESS": "ADDRESS",
}

# --------------------------------------------------------------------------------------
# Value factories
# --------------------------------------------------------------------------------------

_FULLWIDTH = str.maketrans("0123456789-+()", "０１２３４５６７８９－＋（）")
_MOBILE_PREFIXES = [
    "130",
    "131",
    "132",
    "133",
    "134",
    "135",
    "136",
    "137",
    "138",
    "139",
    "145",
    "147",
    "150",
    "151",
    "152",
    "153",
    "155",
    "156",
    "157",
    "158",
    "159",
    "166",
    "170",
    "171",
    "173",
    "175",
    "176",
    "177",
    "178",
    "180",
    "181",
    "182",
    "183",
    "184",
    "185",
    "186",
    "187",
    "188",
    "189",
    "191",
    "193",
    "195",
    "196",
    "198",
    "199",
]
_AREA_CODES = [
    "010",
    "020",
    "021",
    "022",
    "023",
    "024",
    "025",
    "027",
    "028",
    "029",
    "0571",
    "0574",
    "0755",
    "0756",
    "0512",
    "0510",
    "0532",
    "0531",
    "0731",
    "0871",
    "0898",
    "0591",
    "0592",
    "0351",
    "0371",
    "0451",
    "0431",
    "0791",
]
_ID_REGIONS = [
    "110105",
    "110108",
    "310104",
    "310115",
    "330106",
    "330102",
    "440305",
    "440106",
    "320102",
    "510104",
    "420106",
    "370202",
    "350203",
    "610113",
    "120101",
    "500103",
    "210102",
    "230103",
    "430104",
    "530102",
    "999999",
    "710000",
]
# given-name characters that are NOT drawn from Faker's zh_CN list, so that names in
# the corpus are not limited to the characters a Faker-trained recogniser would know
_EXTRA_GIVEN_CHARS = (
    "子涵梓萱雨桐思远一诺浩然欣怡语嫣梦琪若曦天佑俊熙沐宸梓豪嘉怡紫涵诗琪可馨锦程"
    "振宇海峰晓东晓燕婉清佩玲淑芬志远国栋德华永福秀娥凤霞爱华春生秋菊玉洁宏伟"
)
_COMPOUND_SURNAMES = (
    "欧阳",
    "司马",
    "诸葛",
    "上官",
    "皇甫",
    "慕容",
    "东方",
    "令狐",
    "夏侯",
    "公孙",
)
_RARE_SURNAMES = ("仉", "禚", "亓官", "第五", "钭", "鄂")
_EN_TITLES = ("Mr", "Mrs", "Ms", "Dr", "Mr.", "Mrs.", "Ms.", "Dr.")


def _luhn_complete(partial: str) -> str:
    """Append the Luhn check digit to ``partial``."""
    total = 0
    for index, char in enumerate(reversed(partial)):
        digit = int(char)
        if index % 2 == 0:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return partial + str((10 - total % 10) % 10)


def _id_checksum(first17: str) -> str:
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    total = sum(int(c) * w for c, w in zip(first17, weights, strict=True))
    return "10X98765432"[total % 11]


class _Values:
    """Draws realistic slot values; one instance per corpus, seeded."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.zh = Faker("zh_CN")
        self.en = Faker("en_US")
        self.zh.seed_instance(seed)
        self.en.seed_instance(seed + 1)
        from faker.providers.person.zh_CN import Provider as ZhPerson

        self._zh_given = list(ZhPerson.first_names)
        surnames = ZhPerson.last_names
        self._zh_surnames = list(surnames.keys()) if isinstance(surnames, dict) else list(surnames)
        weights = surnames.values() if isinstance(surnames, dict) else [1.0] * len(surnames)
        self._zh_surname_weights = [max(w, 0.05) for w in weights]

    # ---- people ------------------------------------------------------------------
    def surname(self) -> str:
        roll = self.rng.random()
        if roll < 0.06:
            return self.rng.choice(_COMPOUND_SURNAMES)
        if roll < 0.08:
            return self.rng.choice(_RARE_SURNAMES)
        return self.rng.choices(self._zh_surnames, self._zh_surname_weights)[0]

    def given(self) -> str:
        if self.rng.random() < 0.3:
            length = self.rng.choice((1, 2, 2))
            return "".join(self.rng.choice(_EXTRA_GIVEN_CHARS) for _ in range(length))
        return self.rng.choice(self._zh_given)

    def person(self) -> str:
        return self.surname() + self.given()

    def en_person(self) -> str:
        return f"{self.en.first_name()} {self.en.last_name()}"

    # ---- phones ------------------------------------------------------------------
    def mobile(self) -> str:
        digits = self.rng.choice(_MOBILE_PREFIXES) + "".join(
            self.rng.choice(string.digits) for _ in range(8)
        )
        a, b, c = digits[:3], digits[3:7], digits[7:]
        spellings = (
            digits,
            digits,
            digits,
            f"{a} {b} {c}",
            f"{a}-{b}-{c}",
            f"+86 {a} {b} {c}",
            f"+86-{digits}",
            f"+86{digits}",
            f"0086 {digits}",
            f"0086{digits}",
            f"(+86){digits}",
            f"（+86）{a}-{b}-{c}",
            digits.translate(_FULLWIDTH),
            f"{a} {b}{c}",
        )
        return self.rng.choice(spellings)

    def landline(self) -> str:
        area = self.rng.choice(_AREA_CODES)
        length = 8 if len(area) == 3 else self.rng.choice((7, 8))
        local = str(self.rng.randint(2, 8)) + "".join(
            self.rng.choice(string.digits) for _ in range(length - 1)
        )
        half = len(local) // 2
        forms = [
            f"{area}-{local}",
            f"({area}){local}",
            f"（{area}）{local}",
            f"{area}-{local[:half]} {local[half:]}",
            f"{area} {local}",
        ]
        number = self.rng.choice(forms)
        if self.rng.random() < 0.2:
            number += self.rng.choice(("转", "-", " 转 ")) + str(self.rng.randint(100, 9999))
        return number

    def intl_phone(self) -> str:
        forms = (
            lambda: (
                f"+1 {self.rng.randint(201, 989)}-{self.rng.randint(200, 999)}-"
                f"{self.rng.randint(1000, 9999)}"
            ),
            lambda: (
                f"+1 ({self.rng.randint(201, 989)}) {self.rng.randint(200, 999)}-"
                f"{self.rng.randint(1000, 9999)}"
            ),
            lambda: f"+44 20 {self.rng.randint(7000, 8999)} {self.rng.randint(1000, 9999)}",
            lambda: (
                f"+852 {self.rng.choice('5679')}{self.rng.randint(100, 999)} "
                f"{self.rng.randint(1000, 9999)}"
            ),
            lambda: f"+61 2 {self.rng.randint(8000, 9999)} {self.rng.randint(1000, 9999)}",
            lambda: (
                f"+65 {self.rng.choice('689')}{self.rng.randint(100, 999)} "
                f"{self.rng.randint(1000, 9999)}"
            ),
            lambda: (
                f"+1{self.rng.randint(201, 989)}{self.rng.randint(200, 999)}"
                f"{self.rng.randint(1000, 9999)}"
            ),
            lambda: (
                f"({self.rng.randint(201, 989)}) {self.rng.randint(200, 999)}-"
                f"{self.rng.randint(1000, 9999)}"
            ),
            lambda: self.mobile(),
        )
        return self.rng.choice(forms)()

    def hk_mobile(self) -> str:
        first = f"{self.rng.choice('569')}{self.rng.randint(100, 999)}"
        return f"+852 {first} {self.rng.randint(1000, 9999)}"

    # ---- identity documents ------------------------------------------------------
    def resident_id(self) -> str:
        birth = date(1940, 1, 1) + timedelta(days=self.rng.randint(0, 365 * 80))
        if self.rng.random() < 0.05:
            body = (
                self.rng.choice(_ID_REGIONS)
                + birth.strftime("%y%m%d")
                + (f"{self.rng.randint(0, 999):03d}")
            )
            return body  # 15-digit first-generation ID
        first17 = (
            self.rng.choice(_ID_REGIONS)
            + birth.strftime("%Y%m%d")
            + f"{self.rng.randint(0, 999):03d}"
        )
        check = _id_checksum(first17)
        if check == "X" and self.rng.random() < 0.3:
            check = "x"
        return first17 + check

    def passport(self) -> str:
        kind = self.rng.random()
        if kind < 0.5:
            return "E" + "".join(self.rng.choice(string.digits) for _ in range(8))
        if kind < 0.75:
            return (
                "E"
                + self.rng.choice("ABCDFGHJKLMNPQRSTUVWXYZ")
                + "".join(self.rng.choice(string.digits) for _ in range(7))
            )
        if kind < 0.9:
            return "G" + "".join(self.rng.choice(string.digits) for _ in range(8))
        return self.rng.choice("PSD") + "".join(self.rng.choice(string.digits) for _ in range(7))

    def hk_permit(self) -> str:
        return "C" + "".join(self.rng.choice(string.digits) for _ in range(8))

    def tw_permit(self) -> str:
        return "".join(self.rng.choice(string.digits) for _ in range(8))

    def home_return(self) -> str:
        digits = "".join(self.rng.choice(string.digits) for _ in range(8))
        return (
            self.rng.choice("HM")
            + digits
            + ("" if self.rng.random() < 0.7 else f"{self.rng.randint(0, 99):02d}")
        )

    # ---- finance -----------------------------------------------------------------
    def bank_card(self) -> str:
        prefix = self.rng.choice(("622202", "621700", "622848", "623668", "4367", "5187", "6217"))
        length = self.rng.choice((16, 16, 19))
        body = prefix + "".join(
            self.rng.choice(string.digits) for _ in range(length - 1 - len(prefix))
        )
        number = _luhn_complete(body)
        if self.rng.random() < 0.35:
            number = " ".join(number[i : i + 4] for i in range(0, len(number), 4))
        return number

    # ---- network / messaging -----------------------------------------------------
    def email(self) -> str:
        faker = self.en if self.rng.random() < 0.5 else self.zh
        if self.rng.random() < 0.3:
            local = self.zh.user_name() + str(self.rng.randint(1, 99))
            return f"{local}@{self.rng.choice(('qq.com', '163.com', '126.com', 'foxmail.com'))}"
        return faker.email()

    def url(self) -> str:
        base = self.en.url().rstrip("/")
        if self.rng.random() < 0.5:
            base += "/" + self.en.uri_path() + f"?id={self.rng.randint(1, 99999)}"
        return base

    def ip(self) -> str:
        return self.en.ipv4() if self.rng.random() < 0.75 else self.en.ipv6()

    def wechat(self) -> str:
        if self.rng.random() < 0.5:
            name = self.en.user_name()
        else:
            name = self.rng.choice(string.ascii_letters) + "".join(
                self.rng.choice(string.ascii_lowercase + string.digits + "_-")
                for _ in range(self.rng.randint(5, 14))
            )
        name = re.sub(r"[^A-Za-z0-9_-]", "", name)
        if not name[:1].isalpha():
            name = "wx" + name
        return name[:20] if len(name) >= 6 else name + "2024"

    # ---- dates -------------------------------------------------------------------
    def _birth(self) -> date:
        return date(1950, 1, 1) + timedelta(days=self.rng.randint(0, 365 * 55))

    def dob(self) -> str:
        d = self._birth()
        return self.rng.choice(
            (
                f"{d.year}年{d.month}月{d.day}日",
                f"{d.year}-{d.month:02d}-{d.day:02d}",
                f"{d.year}/{d.month}/{d.day}",
                f"{d.year}.{d.month:02d}.{d.day:02d}",
                f"{d.year}年{d.month:02d}月{d.day:02d}日",
            )
        )

    def en_dob(self) -> str:
        d = self._birth()
        return self.rng.choice(
            (
                d.strftime("%B ") + f"{d.day}, {d.year}",
                f"{d.day} " + d.strftime("%B %Y"),
                f"{d.year}-{d.month:02d}-{d.day:02d}",
                f"{d.month:02d}/{d.day:02d}/{d.year}",
            )
        )

    def visit_date(self) -> str:
        d = date(2023, 1, 1) + timedelta(days=self.rng.randint(0, 700))
        return self.rng.choice(
            (
                f"{d.year}年{d.month}月{d.day}日",
                f"{d.month}月{d.day}日",
                f"{d.year}-{d.month:02d}-{d.day:02d}",
                f"{d.month}.{d.day}",
                f"{d.year}/{d.month}/{d.day}",
            )
        )

    def en_visit_date(self) -> str:
        d = date(2023, 1, 1) + timedelta(days=self.rng.randint(0, 700))
        return self.rng.choice((d.strftime("%B ") + f"{d.day}, {d.year}", d.isoformat()))

    # ---- records -----------------------------------------------------------------
    def mrn(self) -> str:
        year = self.rng.randint(2018, 2024)
        return self.rng.choice(
            (
                f"MZ{year}{self.rng.randint(0, 999999):06d}",
                f"ZY{year}-{self.rng.randint(0, 99999):05d}",
                f"{self.rng.randint(0, 99999999):08d}",
                f"{self.rng.randint(10**9, 10**10 - 1)}",
                f"BL{self.rng.randint(10000, 999999)}",
                f"{year}{self.rng.randint(0, 999999):06d}",
            )
        )

    # ---- addresses ---------------------------------------------------------------
    def address(self) -> str:
        from faker.providers.address.zh_CN import Provider as ZhAddress

        rng = self.rng
        province = rng.choice(ZhAddress.provinces)
        city = rng.choice(ZhAddress.cities) + "市"
        district = rng.choice(ZhAddress.districts) + rng.choice(("区", "区", "县"))
        road_core = rng.choice(
            (
                "文三",
                "建国",
                "人民",
                "中山北",
                "解放",
                "天目山",
                "南京西",
                "延安东",
                "长江",
                "学院",
                self.zh.last_name() + rng.choice(("家", "庄", "塘", "湖", "山")),
                rng.choice(ZhAddress.cities),
            )
        )
        road = road_core + rng.choice(("路", "路", "路", "街", "大道", "巷", "大街"))
        if rng.random() < 0.15:
            road += f"{rng.randint(1, 400)}弄"
        number = f"{rng.randint(1, 999)}号"
        estate = rng.choice(
            ("东部软件园", "阳光花园", "翠苑", "金色家园", "SOHO现代城", "世纪大厦", "锦绣公寓", "")
        )
        building = rng.choice(
            (
                f"{rng.randint(1, 30)}号楼",
                f"{rng.randint(1, 30)}栋",
                f"{rng.choice('ABCD')}座",
                f"{rng.randint(1, 20)}幢",
            )
        )
        unit = f"{rng.randint(1, 6)}单元" if rng.random() < 0.5 else ""
        room = f"{rng.randint(1, 32)}{rng.randint(1, 9):02d}室"
        shape = rng.random()
        # municipalities (北京市…) have no separate city level
        head = province + district if province.endswith("市") else province + city + district
        if shape < 0.35:
            return head + road + number + estate + building + unit + room
        if shape < 0.55:
            return city + district + road + number
        if shape < 0.7:
            return district + road + number + estate + building + room
        if shape < 0.8:
            return head + road + number
        if shape < 0.9:
            town = rng.choice(("城关", "新塘", "临平", "长安", "虎门")) + rng.choice(("镇", "乡"))
            village = self.zh.last_name() + rng.choice(("家村", "庄村", "湾村"))
            return (
                city + district + town + village + f"{rng.randint(1, 12)}组{rng.randint(1, 99)}号"
            )
        return road + number + estate + building + unit + room

    def en_address(self) -> str:
        street = self.en.street_address()
        if self.rng.random() < 0.6:
            street += f", {self.en.city()}, {self.en.state_abbr()} {self.en.zipcode()}"
        elif self.rng.random() < 0.5:
            street += f", {self.en.city()}"
        return street


#: public name for the seeded value generator, reused by the held-out corpus
ValueFactory = _Values


# ---- filler vocabularies (non-PII, some deliberately confusable) ---------------------

_ZH_FILLERS: dict[str, tuple[str, ...]] = {
    "project": (
        "种植牙",
        "隐形矫正",
        "全瓷牙冠",
        "热玛吉",
        "超声刀",
        "水光针",
        "玻尿酸填充",
        "黄金微针",
        "白瓷贴面",
        "双眼皮",
        "激光祛斑",
        "洗牙",
        "冷光美白",
        "光子嫩肤",
        "吸脂",
    ),
    "channel": ("抖音", "小红书", "美团", "大众点评", "百度推广", "朋友介绍", "公众号", "高德地图"),
    "weekday": ("周一", "周二", "周三", "周四", "周五", "周六", "周日", "下周一", "这周末"),
    "gender": ("男", "女"),
    "remark": (
        "客户比较在意价格，希望周末来",
        "怕疼，想了解麻醉方式",
        "高度关注术后恢复期",
        "之前在别家做过，效果一般",
        "金额超出预算，考虑分期",
        "白天上班，晚上7点后方便接电话",
        "王牌项目优惠已告知",
    ),
    "recovery": (
        "恢复良好，无红肿",
        "轻微肿胀，已冰敷",
        "伤口愈合好，无出血",
        "自觉牙齿敏感减轻",
        "局部有淤青，嘱继续观察",
        "效果明显，客户满意",
    ),
    "advice": ("按时服药", "一周内忌辛辣", "避免剧烈运动", "次日复查", "勿用患侧咀嚼"),
    "complaint": (
        "牙齿敏感两周",
        "左下后牙疼痛3天",
        "面部色斑5年",
        "牙龈出血1月余",
        "要求矫正牙齿不齐",
        "双眼皮术后3月，不对称",
        "右上颌智齿反复肿痛",
        "皮肤松弛，要求改善",
    ),
    "symptom": ("冷热刺激痛", "夜间自发痛", "牙龈肿胀", "面部红斑", "皮肤瘙痒"),
    "duration": ("两周", "3天", "半年", "1月余", "十余年"),
    "history": (
        "曾在外院行根管治疗",
        "否认高血压、糖尿病史",
        "有青霉素过敏史",
        "2019年行阑尾切除术",
    ),
    "allergy": ("无", "青霉素过敏", "否认药物过敏史", "对海鲜过敏", "头孢类过敏"),
    "dept": (
        "口腔科",
        "皮肤科",
        "整形外科",
        "医学美容科",
        "眼科",
        "正畸科",
        "牙周科",
        "激光美容中心",
    ),
    "hospital": (
        "浙江大学医学院附属第一医院",
        "北京协和医院",
        "华西口腔医院",
        "杭州市第一人民医院",
        "上海九院",
        "我院",
        "市中医院",
        "张江社区卫生服务中心",
    ),
    "diagnosis": ("慢性牙髓炎", "牙列不齐", "黄褐斑", "慢性牙周炎", "阻生齿", "上睑松弛", "痤疮"),
    "treatment": ("根管治疗", "拔除后种植", "光子治疗3次", "龈上洁治", "隐形矫正", "观察"),
    "drug": (
        "阿莫西林胶囊0.5g tid×5天",
        "布洛芬缓释胶囊300mg bid",
        "甲硝唑片0.2g tid",
        "氨甲环酸250mg bid",
        "头孢克肟100mg 每日2次",
        "维生素C 100mg qd",
        "玻尿酸1ml",
    ),
    "relation": ("母亲", "父亲", "丈夫", "妻子", "女儿", "儿子", "朋友", "爱人"),
    "bank_name": ("中国工商银行", "建设银行", "招商银行", "农业银行", "中国银行"),
    "tooth": ("36", "46", "11", "21", "#17", "左下6", "右上7", "14、15", "26"),
    "time": ("09:30", "14:00", "下午3点", "10:15", "晚上7点"),
}

_EN_FILLERS: dict[str, tuple[str, ...]] = {
    "en_complaint": (
        "tooth sensitivity for two weeks",
        "lower left molar pain",
        "pigmentation on both cheeks",
        "bleeding gums",
        "crowded lower incisors",
    ),
    "en_recovery": (
        "healing well, no swelling",
        "mild bruising, improving",
        "sensitivity resolved",
        "some discomfort when chewing",
    ),
    "en_project": ("implant consultation", "Invisalign", "laser resurfacing", "teeth whitening"),
    "en_drug": ("amoxicillin 500 mg tid", "ibuprofen 400 mg prn", "metronidazole 200 mg"),
    "en_allergy": ("none", "penicillin", "latex", "NSAIDs"),
    "en_relation": ("mother", "husband", "wife", "son", "daughter"),
    "en_channel": ("Instagram", "Google Ads", "WeChat article", "a friend"),
    "en_dept": ("Oral Surgery", "Dermatology", "Cosmetic Surgery"),
    "en_hospital": ("St Mary's Hospital", "Peking Union Medical College Hospital", "Mayo Clinic"),
    "tooth_en": ("36", "46", "#18", "UL6"),
}


def _filler(values: _Values, slot: str) -> str:
    """Non-PII filler, including deliberately confusable numbers."""
    rng = values.rng
    if slot in _ZH_FILLERS:
        return rng.choice(_ZH_FILLERS[slot])
    if slot in _EN_FILLERS:
        return rng.choice(_EN_FILLERS[slot])
    if slot == "price":
        amount = rng.choice((680, 1280, 3980, 12800, 26800, 39800, 158000, 99))
        return rng.choice((f"¥{amount}", f"{amount}元", f"￥{amount:,}", f"{amount}.00元"))
    if slot == "en_price":
        return (
            f"${rng.randint(80, 9000):,}" if rng.random() < 0.5 else f"¥{rng.randint(500, 40000)}"
        )
    if slot == "order_no":
        return rng.choice(
            (
                f"DD{rng.randint(10**13, 10**14 - 1)}",
                f"2023{rng.randint(10**11, 10**12 - 1)}",
                f"{rng.randint(10**15, 10**16 - 1)}",
                f"NO.{rng.randint(100000, 999999)}",
                f"1{rng.randint(10**9, 10**10 - 1)}",
            )
        )
    if slot == "count":
        return str(rng.choice((2, 3, 5, 7, 12, 15, 28, 30)))
    if slot == "age":
        return str(rng.randint(6, 78))
    if slot == "height":
        return str(rng.randint(150, 190))
    if slot == "weight":
        return str(rng.randint(42, 95))
    if slot == "digits4":
        return f"{rng.randint(0, 9999):04d}"
    if slot == "visit_date":
        return values.visit_date()
    if slot == "en_visit_date":
        return values.en_visit_date()
    raise KeyError(f"unknown filler slot {slot!r}")


def _pii_value(values: _Values, slot: str) -> str:
    generators: dict[str, Callable[[], str]] = {
        "PERSON": values.person,
        "SURNAME": values.surname,
        "EN_PERSON": values.en_person,
        "EN_SURNAME": values.en.last_name,
        "PHONE": values.mobile,
        "LANDLINE": values.landline,
        "INTL_PHONE": values.intl_phone,
        "INTL_PHONE_ZH": values.hk_mobile,
        "ID": values.resident_id,
        "PASSPORT": values.passport,
        "HK_PERMIT": values.hk_permit,
        "TW_PERMIT": values.tw_permit,
        "HOME_RETURN": values.home_return,
        "BANK": values.bank_card,
        "EMAIL": values.email,
        "URL": values.url,
        "IP": values.ip,
        "WECHAT": values.wechat,
        "DOB": values.dob,
        "EN_DOB": values.en_dob,
        "MRN": values.mrn,
        "ADDRESS": values.address,
        "EN_ADDRESS": values.en_address,
    }
    return generators[slot]()


_SLOT = re.compile(r"\{([A-Za-z_0-9]+)\}")


def fill_template(template: str, values: _Values, template_id: str, lang: str) -> LabelledNote:
    """Fill every slot, recording gold offsets for the PII ones."""
    pieces: list[str] = []
    spans: list[GoldSpan] = []
    cursor = 0
    length = 0
    for match in _SLOT.finditer(template):
        literal = template[cursor : match.start()]
        pieces.append(literal)
        length += len(literal)
        slot = match.group(1)
        if slot in PII_SLOT_TYPES:
            value = _pii_value(values, slot)
            spans.append(GoldSpan(PII_SLOT_TYPES[slot], length, length + len(value)))
        else:
            value = _filler(values, slot)
        pieces.append(value)
        length += len(value)
        cursor = match.end()
    pieces.append(template[cursor:])
    return LabelledNote("".join(pieces), tuple(spans), lang, template_id)


def generate_corpus(
    *, seed: int = DEFAULT_SEED, zh_notes: int = DEFAULT_ZH_NOTES, en_notes: int = DEFAULT_EN_NOTES
) -> list[LabelledNote]:
    """Deterministically generate labelled notes, cycling through every template."""
    values = _Values(seed)
    notes: list[LabelledNote] = []
    for index in range(zh_notes):
        template_index = index % len(ZH_TEMPLATES)
        notes.append(
            fill_template(ZH_TEMPLATES[template_index], values, f"zh{template_index:02d}", "zh")
        )
    for index in range(en_notes):
        template_index = index % len(EN_TEMPLATES)
        notes.append(
            fill_template(EN_TEMPLATES[template_index], values, f"en{template_index:02d}", "en")
        )
    return notes


def write_jsonl(notes: Iterable[LabelledNote], path: Path) -> None:
    """Write one note per line (UTF-8, ``ensure_ascii=False``)."""
    with path.open("w", encoding="utf-8", newline="\n") as handle:
        for note in notes:
            handle.write(note.to_json() + "\n")


def read_jsonl(path: Path) -> Iterator[LabelledNote]:
    """Read notes written by :func:`write_jsonl`."""
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                yield LabelledNote.from_json(line)


def main(argv: list[str]) -> int:
    """``python -m pulsecrm.deid.text.corpus OUT.jsonl`` regenerates the committed corpus."""
    if len(argv) != 1:
        print("usage: python -m pulsecrm.deid.text.corpus OUT.jsonl", file=sys.stderr)
        return 2
    notes = generate_corpus()
    write_jsonl(notes, Path(argv[0]))
    print(f"wrote {len(notes)} notes to {argv[0]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
