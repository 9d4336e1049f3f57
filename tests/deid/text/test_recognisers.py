"""Each recogniser family: what it must find, and what it must leave alone."""

from __future__ import annotations

import pytest

from pulsecrm.deid.text import find_pii
from pulsecrm.deid.text.finance import luhn_ok
from pulsecrm.deid.text.identity_documents import id_checksum_ok

pytestmark = pytest.mark.req("E3")


def found(text: str, kind: str | None = None) -> list[tuple[str, str]]:
    """(type, value) pairs, optionally of one type, in text order."""
    return [
        (f.type, text[f.start : f.end]) for f in find_pii(text) if kind is None or f.type == kind
    ]


def values(text: str, kind: str) -> list[str]:
    return [value for _, value in found(text, kind)]


# ---- the Presidio counterexample ------------------------------------------------------
def test_presidio_counterexample_is_fully_detected() -> None:
    text = "身份证号11010519491231002X，手机13812345678"
    assert found(text) == [("ID_NUMBER", "11010519491231002X"), ("PHONE", "13812345678")]


# ---- PHONE ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "phone",
    [
        "13812345678",
        "138 1234 5678",
        "138-1234-5678",
        "+86 138 1234 5678",
        "+8613812345678",
        "+86-13812345678",
        "0086 13812345678",
        "008613812345678",
        "(+86)13812345678",
        "（+86）138-1234-5678",
        "１３８１２３４５６７８",
        "010-12345678",
        "(0755)12345678",
        "（0755）1234 5678",
        "0571-8888 8888",
        "021-68888888转203",
        "0571-88888888 ext. 12",
    ],
)
def test_prc_phone_spellings(phone: str) -> None:
    assert values(f"客户电话{phone}，已登记", "PHONE") == [phone]


@pytest.mark.parametrize(
    "phone", ["+1 415-555-0132", "+44 20 7946 0958", "+852 9123 4567", "+1 (212) 555-0187"]
)
def test_international_phones_in_english_notes(phone: str) -> None:
    assert values(f"Call back on {phone} tomorrow.", "PHONE") == [phone]


@pytest.mark.parametrize(
    "text",
    [
        "订单号13812345678已退款",
        "批号13912345678，效期2026年",
        "累计治疗13次，费用12800元",
        "种植体3.5x10mm，牙位36",
        "2024-03-05 14:30 复诊",
        "会员号 13700001111 积分500",
    ],
)
def test_phone_negatives(text: str) -> None:
    assert values(text, "PHONE") == []


# ---- ID_NUMBER ------------------------------------------------------------------------
def test_resident_id_checksum() -> None:
    assert id_checksum_ok("11010519491231002X")
    assert id_checksum_ok("11010519491231002x")
    assert not id_checksum_ok("110105194912310021")


@pytest.mark.parametrize(
    "text, expected",
    [
        ("身份证：11010519491231002x", ["11010519491231002x"]),
        ("身份证号码110105491231002", ["110105491231002"]),  # 15-digit first generation
        ("证件号990105198001010013 已核对", ["990105198001010013"]),  # unknown region code
    ],
)
def test_resident_id_positives(text: str, expected: list[str]) -> None:
    assert values(text, "ID_NUMBER") == expected


def test_checksum_failure_scores_low_without_context() -> None:
    text = "流水号110105194912310021"
    assert values(text, "ID_NUMBER") == []
    low = [f for f in find_pii(text, min_score=0.0) if f.type == "ID_NUMBER"]
    assert low and low[0].score < 0.5


def test_checksum_failure_after_id_word_is_still_scrubbed() -> None:
    assert values("身份证号：110105194912310021", "ID_NUMBER") == ["110105194912310021"]


@pytest.mark.parametrize("text", ["订单202311051234567890", "身份证号11010519491331002X"])
def test_id_negatives(text: str) -> None:
    # 18 digits without a valid birth date are not IDs (month 13)
    assert values(text, "ID_NUMBER") == []


# ---- PASSPORT / HK_MO_TW_PERMIT -------------------------------------------------------
def test_passports_need_context() -> None:
    assert values("护照号码：E12345678", "PASSPORT") == ["E12345678"]
    assert values("Passport No. G12345678", "PASSPORT") == ["G12345678"]
    assert values("型号E12345678的设备", "PASSPORT") == []


def test_travel_permits() -> None:
    text = "港澳通行证C12345678，台胞证号码：87654321，回乡证H1234567800"
    assert values(text, "HK_MO_TW_PERMIT") == ["C12345678", "87654321", "H1234567800"]


# ---- BANK_CARD ------------------------------------------------------------------------
def test_luhn() -> None:
    assert luhn_ok("4111111111111111")
    assert not luhn_ok("4111111111111112")


@pytest.mark.parametrize(
    "card", ["6222021234567890128", "6222 0212 3456 7890 128", "4111 1111 1111 1111"]
)
def test_bank_card_positives(card: str) -> None:
    assert values(f"退款卡号{card}", "BANK_CARD") == [card]


@pytest.mark.parametrize(
    "text", ["卡号4111111111111112", "订单号4111111111111111", "会员卡号6217000001234562"]
)
def test_bank_card_negatives(text: str) -> None:
    assert values(text, "BANK_CARD") == []


# ---- EMAIL / URL / IP -----------------------------------------------------------------
def test_network_identifiers() -> None:
    text = "邮箱 li.na+vip@163.com，官网https://clinic.example.cn/a?b=1，IP 10.0.0.12"
    assert found(text) == [
        ("EMAIL", "li.na+vip@163.com"),
        ("URL", "https://clinic.example.cn/a?b=1"),
        ("IP", "10.0.0.12"),
    ]


def test_ipv6_and_non_ips() -> None:
    assert values("from fe80::1ff:fe23:4567:890a today", "IP") == ["fe80::1ff:fe23:4567:890a"]
    assert values("复诊14:30:00，版本1.2.3", "IP") == []
    assert values("数值 999.1.1.1", "IP") == []


# ---- WECHAT_ID ------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text, expected",
    [
        ("微信：zhang_wei88", ["zhang_wei88"]),
        ("微信号Lily-2023，备注种植", ["Lily-2023"]),
        ("VX：wxid_a1b2c3", ["wxid_a1b2c3"]),
        ("She prefers WeChat: olivia_c", ["olivia_c"]),
        ("已加微信，约周六", []),
        ("微信同手机号13812345678", []),
        ("New lead via WeChat article: see notes", []),
    ],
)
def test_wechat(text: str, expected: list[str]) -> None:
    assert values(text, "WECHAT_ID") == expected


# ---- DATE_OF_BIRTH --------------------------------------------------------------------
@pytest.mark.parametrize(
    "text, expected",
    [
        ("出生日期：1990年3月5日", ["1990年3月5日"]),
        ("生日1990-03-05", ["1990-03-05"]),
        ("出生于1990/3/5", ["1990/3/5"]),
        ("DOB: March 5, 1990", ["March 5, 1990"]),
        ("born on 5 March 1990", ["5 March 1990"]),
        ("就诊日期2024年3月5日，预约2024-04-01", []),
        ("Visit on March 5, 2024", []),
    ],
)
def test_date_of_birth(text: str, expected: list[str]) -> None:
    assert values(text, "DATE_OF_BIRTH") == expected


# ---- MEDICAL_RECORD -------------------------------------------------------------------
def test_medical_record_numbers() -> None:
    text = "病历号：MZ2024001234，住院号ZY2023-00451，MRN 00482913"
    assert values(text, "MEDICAL_RECORD") == ["MZ2024001234", "ZY2023-00451", "00482913"]
    assert values("挂号费50元，号码牌A12", "MEDICAL_RECORD") == []


# ---- ADDRESS --------------------------------------------------------------------------
@pytest.mark.parametrize(
    "address",
    [
        "浙江省杭州市西湖区文三路90号东部软件园1号楼",
        "朝阳区建国路88号SOHO现代城B座1205室",
        "上海市浦东新区张江镇碧波路690号3幢502室",
        "广州市天河区体育西路103号维多利广场A塔2501",
        "四川省成都市武侯区人民南路四段11号",
        "苏州市吴中区临湖镇东山村3组12号",
    ],
)
def test_chinese_addresses(address: str) -> None:
    matches = values(f"住址：{address}。", "ADDRESS")
    assert len(matches) == 1
    assert address.startswith(matches[0])
    assert len(matches[0]) >= len(address) - 4


@pytest.mark.parametrize(
    "text",
    [
        "转诊至杭州市第一人民医院口腔科",
        "请到3楼挂号处缴费",
        "张江社区卫生服务中心开具证明",
        "北京协和医院皮肤科专家门诊",
    ],
)
def test_address_negatives(text: str) -> None:
    assert values(text, "ADDRESS") == []


def test_back_to_back_addresses_in_one_run() -> None:
    text = (
        "住址北京市朝阳区建国路88号现住址上海市浦东新区碧波路690号3幢502室"
        "户籍浙江省杭州市西湖区文三路90号"
    )
    assert values(text, "ADDRESS") == [
        "北京市朝阳区建国路88号",
        "上海市浦东新区碧波路690号3幢502室",
        "浙江省杭州市西湖区文三路90号",
    ]


def test_english_street_address() -> None:
    text = "Ship to 123 Main St, Springfield, IL 62704 please"
    assert values(text, "ADDRESS") == ["123 Main St, Springfield, IL 62704"]


# ---- PERSON ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text, expected",
    [
        ("患者张伟先生来电", ["张伟"]),
        ("客户王女士咨询种植牙", ["王"]),
        ("接诊医生：欧阳娜娜", ["欧阳娜娜"]),
        ("由其母亲刘敏陪同", ["刘敏"]),
        ("姓名：司马相如；性别：男", ["司马相如"]),
        ("联系人诸葛明，电话见上", ["诸葛明"]),
        ("李娜（女，32岁）主诉牙痛", ["李娜"]),
        ("医学美容科陈主任会诊", ["陈"]),
        ("收件人文女士", ["文"]),
    ],
)
def test_chinese_names(text: str, expected: list[str]) -> None:
    assert values(text, "PERSON") == expected


@pytest.mark.parametrize(
    "text",
    [
        "患者高度近视10年",
        "患者张口受限",
        "金额合计12800元",
        "白色念珠菌感染",
        "黄金周活动",
        "王牌项目本月优惠",
        "周一停诊",
        "客户满意度调查",
        "主任医生查房",
        "值班医生已处理",
        "北京协和医院",
        "患者于2024年1月5日来院",
    ],
)
def test_chinese_name_negatives(text: str) -> None:
    assert values(text, "PERSON") == []


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Seen by Dr. Patel today", ["Patel"]),
        ("Mrs Olivia Chen called", ["Olivia Chen"]),
        ("Name: James O'Brien", ["James O'Brien"]),
        ("Spoke with Sarah Johnson about fees", ["Sarah Johnson"]),
        ("Chief complaint: tooth pain", []),
        ("Referral to Mayo Clinic", []),
    ],
)
def test_english_names(text: str, expected: list[str]) -> None:
    assert values(text, "PERSON") == expected


def test_jieba_confirmation_is_optional_and_agrees_on_clear_cases() -> None:
    from pulsecrm.deid.text.names import NameRecogniser

    recogniser = NameRecogniser(confirm_with_jieba=True)
    text = "患者王小明今日复诊"
    assert [text[f.start : f.end] for f in recogniser.find(text)] == ["王小明"]
