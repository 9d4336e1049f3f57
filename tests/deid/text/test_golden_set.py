"""Hand-written golden set: tricky sentences the corpus templates do not contain.

The committed corpus was used while building the recognisers, so its figures
are in-sample. These sentences were written separately — mixed spellings,
compound surnames, hospital names, checksum-failing numbers, emoji, everyday
words that start with a surname character — and are scored as a whole, so one
regression shows up as a drop in the aggregate rather than a silent pass.
"""

from __future__ import annotations

from collections import Counter

import pytest

from pulsecrm.deid.text import find_pii

pytestmark = pytest.mark.req("E3")

#: (sentence, [(type, exact value), ...]); an empty list means "no PII here"
GOLDEN: list[tuple[str, list[tuple[str, str]]]] = [
    (
        "身份证号11010519491231002X，手机13812345678",
        [("ID_NUMBER", "11010519491231002X"), ("PHONE", "13812345678")],
    ),
    (
        "患者欧阳娜娜女士，联系电话：０５７１－８７６５４３２１转８０２",
        [("PERSON", "欧阳娜娜"), ("PHONE", "０５７１－８７６５４３２１转８０２")],
    ),
    (
        "客户说她老公诸葛亮明天陪她来，电话+86 139 0571 2233",
        [("PERSON", "诸葛亮"), ("PHONE", "+86 139 0571 2233")],
    ),
    ("今天高度近视患者复查，视力恢复良好，无需处理。", []),
    ("黄金周期间种植牙优惠，金额满12800元减2000元，订单号13800138000。", []),
    ("王牌项目白瓷贴面，周一至周五可约，咨询热线见官网。", []),
    (
        "住址：北京市朝阳区建国路88号SOHO现代城B座1205室，邮编100022",
        [("ADDRESS", "北京市朝阳区建国路88号SOHO现代城B座1205室")],
    ),
    (
        "家住浙江省杭州市西湖区文三路90号东部软件园1号楼，离诊所很近",
        [("ADDRESS", "浙江省杭州市西湖区文三路90号东部软件园1号楼")],
    ),
    ("转诊至杭州市第一人民医院口腔科，由李建国主任接诊", [("PERSON", "李建国")]),
    (
        "出生日期：1987年11月3日，就诊日期：2024年3月5日",
        [("DATE_OF_BIRTH", "1987年11月3日")],
    ),
    (
        "DOB: 04/12/1979. Seen on 2024-02-01 by Dr. Patel.",
        [("DATE_OF_BIRTH", "04/12/1979"), ("PERSON", "Patel")],
    ),
    (
        "Please call Mrs. Olivia Chen at +1 (415) 555-0199 or email olivia.chen@example.com",
        [
            ("PERSON", "Olivia Chen"),
            ("PHONE", "+1 (415) 555-0199"),
            ("EMAIL", "olivia.chen@example.com"),
        ],
    ),
    ("退款到银行卡号 6222 0212 3456 7890 128（工行）", [("BANK_CARD", "6222 0212 3456 7890 128")]),
    (
        "加微信 zhang_wei88 详聊，或者VX：Lily-2023",
        [("WECHAT_ID", "zhang_wei88"), ("WECHAT_ID", "Lily-2023")],
    ),
    ("微信同手机号：186 0000 1234", [("PHONE", "186 0000 1234")]),
    (
        "护照号码：E12345678，港澳通行证C12345678",
        [("PASSPORT", "E12345678"), ("HK_MO_TW_PERMIT", "C12345678")],
    ),
    (
        "台胞证 12345678，回乡证H1234567801",
        [("HK_MO_TW_PERMIT", "12345678"), ("HK_MO_TW_PERMIT", "H1234567801")],
    ),
    (
        "门诊号：MZ2024001234，住院号ZY-2024-0567",
        [("MEDICAL_RECORD", "MZ2024001234"), ("MEDICAL_RECORD", "ZY-2024-0567")],
    ),
    (
        "MRN 00482913; visit no. V2024-118",
        [("MEDICAL_RECORD", "00482913"), ("MEDICAL_RECORD", "V2024-118")],
    ),
    (
        "官网 https://www.example-clinic.cn/booking?id=42，访问IP 192.168.10.23",
        [("URL", "https://www.example-clinic.cn/booking?id=42"), ("IP", "192.168.10.23")],
    ),
    (
        "服务器日志 IPv6 地址 2001:db8::8a2e:370:7334 访问了预约页",
        [("IP", "2001:db8::8a2e:370:7334")],
    ),
    ("复诊时间14:30，地点3楼口腔科，36、37牙位充填", []),
    ("阿莫西林0.5g tid，布洛芬300mg，连续服用5天", []),
    ("患者张口受限3天，右下8阻生", []),
    ("客户满意，表示下次带朋友来", []),
    (
        "接诊医生：司马懿，助理护士：上官婉儿",
        [("PERSON", "司马懿"), ("PERSON", "上官婉儿")],
    ),
    ("由其女儿陈晓雯陪同就诊", [("PERSON", "陈晓雯")]),
    ("孙丽华（女，52岁）主诉牙龈出血", [("PERSON", "孙丽华")]),
    ("联系人：马云飞 13900001111", [("PERSON", "马云飞"), ("PHONE", "13900001111")]),
    ("患者于2024年1月5日行种植手术", []),
    (
        "身份证号码：110105194912310021（核对有误，待补）",
        [("ID_NUMBER", "110105194912310021")],
    ),
    ("流水号110105194912310021", []),
    ("老身份证号：110105491231002", [("ID_NUMBER", "110105491231002")]),
    (
        "Name: James O'Brien\nAddress: 742 Evergreen Terrace, Springfield",
        [("PERSON", "James O'Brien"), ("ADDRESS", "742 Evergreen Terrace, Springfield")],
    ),
    (
        "Patient lives at 1600 Pennsylvania Ave, Washington, DC 20500.",
        [("ADDRESS", "1600 Pennsylvania Ave, Washington, DC 20500")],
    ),
    ("She was born on March 5, 1990 in Shanghai.", [("DATE_OF_BIRTH", "March 5, 1990")]),
    ("Appointment on March 5, 2024 at 10am.", []),
    ("Order #4111111111111111 shipped", []),
    ("Card: 4111 1111 1111 1111, exp 12/26", [("BANK_CARD", "4111 1111 1111 1111")]),
    (
        "👩‍⚕️王医生说：患者李娜（手机１３８００１３８０００）需复诊",
        [("PERSON", "王"), ("PERSON", "李娜"), ("PHONE", "１３８００１３８０００")],
    ),
    ("请把报告发到 li.na+report@163.com 谢谢", [("EMAIL", "li.na+report@163.com")]),
    (
        "地址：广东省深圳市南山区科技园南区深南大道9988号",
        [("ADDRESS", "广东省深圳市南山区科技园南区深南大道9988号")],
    ),
    (
        "寄到上海市浦东新区张江镇碧波路690号3幢502室，收件人刘先生",
        [("ADDRESS", "上海市浦东新区张江镇碧波路690号3幢502室"), ("PERSON", "刘")],
    ),
    ("黄女士预约周六上午洗牙", [("PERSON", "黄")]),
    ("白色念珠菌阳性，建议复查", []),
    ("钱包丢了，客户要求改约", []),
    ("WeChat article shared by the clinic got 300 likes", []),
    (
        "电话回访张先生，其爱人王秀英接听，约定下周三复诊",
        [("PERSON", "张"), ("PERSON", "王秀英")],
    ),
    (
        "海外客户 Tel +44 20 7946 0958, Mr Smith",
        [("PHONE", "+44 20 7946 0958"), ("PERSON", "Smith")],
    ),
    ("VX：wxid_a1b2c3d4e5", [("WECHAT_ID", "wxid_a1b2c3d4e5")]),
    ("石膏模型已取，周五戴牙", []),
    ("农历生日是三月初五", []),
    (
        "病历号：BL20240315-07，主治医生：林志玲",
        [("MEDICAL_RECORD", "BL20240315-07"), ("PERSON", "林志玲")],
    ),
    ("请到3楼挂号处，医保卡号码不需要提供", []),
    ("方案已确认，常规洗牙加抛光共计680元", []),
]


#: written after everything above and scored once before any fix: 30 found, 5 missed,
#: 0 false positives (recall 0.857). Four misses were then fixed generically (微信号是…,
#: 太太/实习生 cues, 生日：12月3日); 家属（女儿）冯佳怡代签 is still missed.
PROBES: list[tuple[str, list[tuple[str, str]]]] = [
    ("陈先生的太太林美玲今天来做了洁牙", [("PERSON", "陈"), ("PERSON", "林美玲")]),
    ("预约人：何文轩，18657123456，周三下午", [("PERSON", "何文轩"), ("PHONE", "18657123456")]),
    ("客户反馈说邱医生态度很好", [("PERSON", "邱")]),
    (
        "电话打不通：152-6789-0123，改用微信 Tina_0521 联系",
        [("PHONE", "152-6789-0123"), ("WECHAT_ID", "Tina_0521")],
    ),
    (
        "送货地址：江苏省南京市鼓楼区中山路18号德基广场二期8楼",
        [("ADDRESS", "江苏省南京市鼓楼区中山路18号德基广场二期8楼")],
    ),
    ("户口所在地：河南省郑州市金水区花园路街道", [("ADDRESS", "河南省郑州市金水区花园路街道")]),
    ("证件类型：身份证，证件号码：44030619850612341X", [("ID_NUMBER", "44030619850612341X")]),
    ("刷卡尾号3321，金额¥4,980", []),
    ("张阿姨说她孙子下周来补牙", [("PERSON", "张")]),
    ("主管：钟晓婷\u3000审核：吴海峰", [("PERSON", "钟晓婷"), ("PERSON", "吴海峰")]),
    ("家属（女儿）冯佳怡代签", [("PERSON", "冯佳怡")]),
    (
        "Emergency contact is her brother, Michael Torres, 917-555-0143.",
        [("PERSON", "Michael Torres"), ("PHONE", "917-555-0143")],
    ),
    (
        "Pt. is Jessica Wu (DOB 1988-07-19), referred by Dr Kim.",
        [("PERSON", "Jessica Wu"), ("DATE_OF_BIRTH", "1988-07-19"), ("PERSON", "Kim")],
    ),
    (
        "Email the invoice to accounts@smile-dental.com.au",
        [("EMAIL", "accounts@smile-dental.com.au")],
    ),
    ("She lives at 45 Queen Street, Auckland.", [("ADDRESS", "45 Queen Street, Auckland")]),
    ("微信号是 heyun1990，手机同号", [("WECHAT_ID", "heyun1990")]),
    ("QQ邮箱 123456789@qq.com", [("EMAIL", "123456789@qq.com")]),
    ("报销银行账号：6217 0000 0123 4562", [("BANK_CARD", "6217 0000 0123 4562")]),
    ("网址 www.meiyan-clinic.com 上有案例", [("URL", "www.meiyan-clinic.com")]),
    ("今天下午三点，石医生会诊", [("PERSON", "石")]),
    ("本次由实习生白雪协助拍片", [("PERSON", "白雪")]),
    ("患者的姐姐杜若兰也想做种植", [("PERSON", "杜若兰")]),
    ("住院号：2024-000871", [("MEDICAL_RECORD", "2024-000871")]),
    ("身高165cm，体重52kg，血压120/80", []),
    ("门牌号：西溪路556号8幢", [("ADDRESS", "西溪路556号8幢")]),
    (
        "Contact: Ahmed Khan, ahmed.khan@example.org",
        [("PERSON", "Ahmed Khan"), ("EMAIL", "ahmed.khan@example.org")],
    ),
    ("香港手机 +852 6123 4567", [("PHONE", "+852 6123 4567")]),
    ("生日：12月3日", [("DATE_OF_BIRTH", "12月3日")]),
    ("出生年月：1992年6月", [("DATE_OF_BIRTH", "1992年6月")]),
    ("复查结果：白细胞计数正常，建议3个月后复诊", []),
]


def _gold_spans(text: str, expected: list[tuple[str, str]]) -> list[tuple[str, int, int]]:
    spans: list[tuple[str, int, int]] = []
    for kind, value in expected:
        start = text.index(value)
        spans.append((kind, start, start + len(value)))
    return spans


def _score_golden_set(
    sentences: list[tuple[str, list[tuple[str, str]]]] | None = None,
) -> tuple[Counter[str], Counter[str], Counter[str], list[str]]:
    """Overlap matching, as in the corpus evaluation: (tp, fp, fn) per type + misses."""
    tp: Counter[str] = Counter()
    fp: Counter[str] = Counter()
    fn: Counter[str] = Counter()
    misses: list[str] = []
    for text, expected in GOLDEN if sentences is None else sentences:
        predicted = find_pii(text)
        used: set[int] = set()
        for kind, start, end in _gold_spans(text, expected):
            hit = next(
                (
                    i
                    for i, f in enumerate(predicted)
                    if i not in used and f.type == kind and f.start < end and start < f.end
                ),
                None,
            )
            if hit is None:
                fn[kind] += 1
                misses.append(f"FN {kind} {text[start:end]!r} in {text!r}")
            else:
                used.add(hit)
                tp[kind] += 1
        for index, finding in enumerate(predicted):
            if index not in used:
                fp[finding.type] += 1
                misses.append(
                    f"FP {finding.type} {text[finding.start : finding.end]!r} in {text!r}"
                )
    return tp, fp, fn, misses


def test_golden_set_is_large_enough() -> None:
    assert len(GOLDEN) >= 40
    assert sum(1 for _, expected in GOLDEN if not expected) >= 12  # hard negatives


def test_golden_set_aggregate_recall_and_precision() -> None:
    tp, fp, fn, misses = _score_golden_set()
    found, wrong, missed = sum(tp.values()), sum(fp.values()), sum(fn.values())
    recall = found / (found + missed)
    precision = found / (found + wrong)
    assert recall >= 0.9, "\n".join(misses)
    assert precision >= 0.9, "\n".join(misses)


@pytest.mark.parametrize(("text", "expected"), [g for g in GOLDEN if not g[1]])
def test_golden_negatives_have_no_findings(text: str, expected: list[tuple[str, str]]) -> None:
    assert [(f.type, text[f.start : f.end]) for f in find_pii(text)] == []


def test_untuned_probes_stay_above_their_first_run() -> None:
    tp, fp, fn, misses = _score_golden_set(PROBES)
    found, wrong, missed = sum(tp.values()), sum(fp.values()), sum(fn.values())
    assert found / (found + missed) >= 0.85, "\n".join(misses)
    assert found / (found + wrong) >= 0.9, "\n".join(misses)
