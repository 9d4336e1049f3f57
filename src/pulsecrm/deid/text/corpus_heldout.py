"""Held-out templates: written after the recognisers, and never used to tune them.

Why a second set: the main corpus (:mod:`.corpus`) was used while the
recognisers were developed, so its figures are in-sample. These templates use
phrasings the main corpus lacks — chat transcripts, tab-separated pastes,
consent forms, name lists, 我姓王 self-introductions, 王姐-style forms of
address — and are scored exactly as written, including the cases we know the
recognisers miss. ``python -m pulsecrm.deid.text.corpus_heldout`` prints the
table; the benchmark reports the figures alongside the in-sample ones.
"""

from __future__ import annotations

import sys

from pulsecrm.deid.text.corpus import LabelledNote, ValueFactory, fill_template

HELDOUT_SEED = 77_2024

HELDOUT_ZH_TEMPLATES: tuple[str, ...] = (
    "【微信聊天记录】客户：你好，我姓{SURNAME}，想问下{project}多少钱\n"
    "客服：您好，您留个电话吧\n客户：{PHONE}",
    "参与会诊人员：{PERSON}、{PERSON}、{PERSON}（{dept}）",
    "电话：{PHONE}（本人），{PHONE}（{relation}）",
    "客户信息\t{PERSON}\t{gender}\t{age}\t{PHONE}\t{ADDRESS}",
    "本人{PERSON}，身份证号码{ID}，自愿接受{project}治疗，已知晓风险。"
    "签字：{PERSON} 日期：{visit_date}",
    "请{PERSON}于{visit_date}{time}携带身份证原件到{hospital}{dept}办理入院，床位联系电话{LANDLINE}。",
    "快递单：收件人 {PERSON} {PHONE} {ADDRESS}",
    "【预约提醒】尊敬的{SURNAME}女士，您预约的{project}时间为{visit_date} {time}，"
    "如需改约请致电{LANDLINE}。",
    "工行卡{BANK}已于{visit_date}退回{price}，请{PERSON}注意查收。",
    "患者述其丈夫{PERSON}（{PHONE}）不同意手术，需再次沟通。",
    "跟进：{visit_date}加了微信（{WECHAT}），发了案例图，{SURNAME}小姐说再考虑。",
    "出生：{DOB}\u3000性别：{gender}\u3000民族：汉\u3000婚否：已婚\u3000职业：教师",
    "既往在{hospital}就诊，病案号{MRN}，主治{PERSON}，诊断{diagnosis}。",
    "来访者：{PERSON}\u3000证件：护照 {PASSPORT}\u3000国籍：加拿大",
    "用户{WECHAT}在小程序下单，订单号{order_no}，支付{price}，收货地址：{ADDRESS}",
    "{PERSON}医生今日出诊，{PERSON}护士配合，共接诊{count}人。",
    "家长{PERSON}代孩子{PERSON}（{age}岁）填写问卷，联系邮箱{EMAIL}。",
    "术后第{count}天，拆线，伤口I期愈合，嘱{advice}，{weekday}复查，费用{price}。",
    "{SURNAME}女士的老公打电话来说她今天不舒服，改约{visit_date}。",
    "客户自述住{ADDRESS}，平时{weekday}有空。",
)

HELDOUT_EN_TEMPLATES: tuple[str, ...] = (
    "Caller: {EN_PERSON} | Phone: {INTL_PHONE} | Reason: {en_complaint}",
    "Pt {EN_PERSON}, {count}yo, MRN: {MRN}. Allergies: {en_allergy}.",
    "Consent signed by {EN_PERSON} (guardian of {EN_PERSON}) on {en_visit_date}.",
    "Reach me at {EMAIL} or {INTL_PHONE} - {EN_PERSON}",
    "Mailing address: {EN_ADDRESS}; DOB {EN_DOB}.",
    "Follow-up: {en_recovery}. Next visit {en_visit_date}, {count} sessions left.",
)


def generate_heldout_corpus(
    *, seed: int = HELDOUT_SEED, zh_notes: int = 300, en_notes: int = 100
) -> list[LabelledNote]:
    """Deterministic held-out notes (not committed; cheap to regenerate)."""
    values = ValueFactory(seed)
    notes = [
        fill_template(
            HELDOUT_ZH_TEMPLATES[i % len(HELDOUT_ZH_TEMPLATES)], values, f"hz{i % 20:02d}", "zh"
        )
        for i in range(zh_notes)
    ]
    notes += [
        fill_template(
            HELDOUT_EN_TEMPLATES[i % len(HELDOUT_EN_TEMPLATES)], values, f"he{i % 6:02d}", "en"
        )
        for i in range(en_notes)
    ]
    return notes


def main(argv: list[str]) -> int:
    """Print the held-out evaluation table (``--misses`` lists every error)."""
    from pulsecrm.deid.text.evaluate import evaluate, format_table

    evaluation = evaluate(generate_heldout_corpus())
    print(format_table(evaluation))
    if "--misses" in argv:
        for kind, pii_type, excerpt in evaluation.misses:
            print(kind, pii_type, excerpt.replace("\n", "⏎"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
