"""Note templates and filler phrases for the evaluation corpus (data, written before
the recognisers existed; see ``corpus``)."""

from __future__ import annotations

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
