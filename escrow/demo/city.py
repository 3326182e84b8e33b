"""What a Hengshui-like city is made of: its banks and mortgage lenders, districts and their prices, the names
of projects, developers, partners and buyers, flat layouts, and the words on evidence and approvals.

Fixed data only; `escrow.demo.plan` draws from it with a seeded random generator.
"""

from __future__ import annotations

BANKS = (  # code, name, account number prefix, share of the supervised accounts
    ("HSB", "衡水银行股份有限公司", "6011", 0.34),
    ("CCBHS", "中国建设银行股份有限公司衡水分行", "1305", 0.20),
    ("ICBCHS", "中国工商银行股份有限公司衡水分行", "0408", 0.16),
    ("ABCHS", "中国农业银行股份有限公司衡水分行", "5071", 0.16),
    ("BOCHS", "中国银行股份有限公司衡水分行", "1003", 0.14),
)
LENDERS = (  # mortgage lenders paying buyers' mortgage notices: name, disbursement account
    ("中国建设银行股份有限公司衡水分行", "13050168360800000017"),
    ("中国工商银行股份有限公司衡水分行", "0408020109024500981"),
    ("中国农业银行股份有限公司衡水分行", "50710101040011577"),
    ("中国银行股份有限公司衡水分行", "100363521866"),
    ("衡水银行股份有限公司", "601101200100002281"),
    ("中国邮政储蓄银行股份有限公司衡水市分行", "913003010000155811"),
)
LENDER_WEIGHTS = (30, 22, 18, 12, 10, 8)

BUREAU_USERS = (  # username, role, display name, demo password (deterministic, ≥ 10 characters)
    ("admin", "admin", "王志刚（系统管理员）", "demo-admin-2025"),
    ("reviewer", "reviewer", "李静（初审）", "demo-reviewer-2025"),
    ("approver", "approver", "张伟（审批）", "demo-approver-2025"),
    ("director", "director", "刘建华（局领导）", "demo-director-2025"),
    ("inspector", "inspector", "陈磊（节点核验）", "demo-inspector-2025"),
    ("auditor", "auditor", "赵敏（审计）", "demo-auditor-2025"),
)
DEVELOPER_USER = ("developer", "demo-developer-2025")
BANK_USER = ("bank", "demo-bank-2025", "衡水银行监管业务岗")  # the first bank's staff: the bank portal

# district, short name, division code, share of projects, shell price range (¥/m²), typical floors
DISTRICTS = (
    ("桃城区", "桃城", "131102", 0.30, (8600, 10600), (11, 18, 26)),
    ("衡水高新技术产业开发区", "高新区", "131171", 0.10, (8200, 10000), (11, 18, 26)),
    ("衡水滨湖新区", "滨湖新区", "131172", 0.07, (9000, 10800), (6, 11, 18)),
    ("冀州区", "冀州", "131103", 0.11, (7000, 8800), (11, 18)),
    ("深州市", "深州", "131182", 0.08, (6800, 8500), (11, 18)),
    ("枣强县", "枣强", "131121", 0.05, (6100, 7600), (6, 11, 18)),
    ("武邑县", "武邑", "131122", 0.04, (6000, 7400), (6, 11, 18)),
    ("武强县", "武强", "131123", 0.03, (6000, 7300), (6, 11)),
    ("饶阳县", "饶阳", "131124", 0.03, (6000, 7300), (6, 11)),
    ("安平县", "安平", "131125", 0.05, (6300, 7800), (6, 11, 18)),
    ("故城县", "故城", "131126", 0.05, (6000, 7500), (6, 11, 18)),
    ("景县", "景县", "131127", 0.05, (6100, 7600), (6, 11, 18)),
    ("阜城县", "阜城", "131128", 0.04, (6000, 7300), (6, 11)),
)


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


PROJECT_FIRST = _words(
    "滏阳 衡湖 人民 中华 育才 和平 永兴 榕花 前进 胜利 红旗 大庆 新华 宝云 东明 安济 朝阳 "
    "锦绣 翰林 书香 怡然 阳光 盛世 御景 天宸 湖韵 桃源 长安 康宁 泰和 丰泽 明珠 紫薇 "
    "悦湖 北辰 金融街 西湖"
)
PROJECT_SECOND = _words(
    "华府 名苑 雅居 花园 尚城 公馆 御府 美庐 春晓 家园 壹号院 悦府 天著 玺园 学府 佳苑 "
    "新城 锦园 兰亭 云著 澜庭 府邸 嘉园 和院"
)
PHASES = ("", "", "一期", "二期", "二期", "三期", "四期", "东区", "西区", "北区")
DEVELOPER_WORDS = _words(
    "安居 恒泰 滏阳 湖景 宏业 鼎盛 锦程 瑞祥 康泰 盛世 嘉禾 泰和 丰泽 永兴 和悦 鸿运 中浩 "
    "汇通 广源 明珠 翰林 君悦 天成 信达 润泽 福源 德润 兴业 宝隆 华庭 金桥 正弘 隆基 "
    "新天地 众成 同创 博远 睿城 海润 昌盛"
)
DEVELOPER_SUFFIXES = ("房地产开发有限公司", "房地产开发有限公司", "置业有限公司", "房地产开发集团有限公司")
CONTRACTORS = (
    ("衡水恒建建筑工程有限公司", "河北银行股份有限公司衡水分行"),
    ("河北冀衡建设集团有限公司", "中国建设银行股份有限公司衡水分行"),
    ("衡水市宏远建筑安装工程有限公司", "中国工商银行股份有限公司衡水分行"),
    ("冀州区广厦建筑工程有限公司", "中国农业银行股份有限公司冀州支行"),
    ("深州市华兴建设工程有限公司", "衡水银行股份有限公司深州支行"),
    ("衡水湖滨建筑工程有限公司", "中国银行股份有限公司衡水分行"),
    ("河北衡安建工集团有限公司", "衡水银行股份有限公司"),
)
SUPPLIERS = {
    "materials": (
        ("衡水安泰商品混凝土有限公司", "衡水银行股份有限公司"),
        ("河北衡钢建材贸易有限公司", "中国建设银行股份有限公司衡水分行"),
        ("衡水鑫源钢材销售有限公司", "中国工商银行股份有限公司衡水分行"),
        ("衡水宏达保温材料有限公司", "中国农业银行股份有限公司衡水分行"),
    ),
    "equipment": (
        ("河北衡远电梯工程有限公司", "中国银行股份有限公司衡水分行"),
        ("衡水新风暖通设备有限公司", "衡水银行股份有限公司"),
        ("衡水恒通消防设备有限公司", "中国建设银行股份有限公司衡水分行"),
    ),
}
SURNAMES = _words(
    "王 李 张 刘 陈 杨 赵 黄 周 吴 徐 孙 马 胡 朱 郭 何 高 林 贾 董 田 韩 冯 崔 耿 齐 魏 "
    "孟 石 谷 宋 郑 梁 谢 曹 袁 许 吕 苏 卢 蒋 丁 任 姚 范 金 侯 秦 薛 尹 段 史 贺 郝 邵 "
    "武 牛 常 路 边 霍 甄 申 白 安"
)
GIVEN = _words(
    "伟 芳 娜 秀英 敏 静 丽 强 磊 军 洋 勇 艳 杰 娟 涛 明 超 秀兰 霞 平 刚 桂英 建华 志强 "
    "晓东 海燕 红梅 国庆 立新 子涵 浩然 欣怡 梓萱 宇航 雨桐 思远 佳琪 俊杰 文博 振华 丽娟 "
    "建军 春生 玉兰 淑芬 志刚 亚楠 晨阳 一鸣 嘉怡 铭轩 若曦 子墨 金凤 永强 少华 海涛 文静 "
    "晓燕"
)
BIRTH_REGIONS = _words(  # resident ID region codes: mostly Hengshui, some from elsewhere in Hebei and beyond
    "131102 131102 131102 131103 131182 131121 131122 131123 131124 131125 131126 131127 "
    "131128 130102 130902 130503 110105 371402"
)
LAYOUTS = (  # building area of a flat type (m²) and how common it is
    *((72.6, 2), (89.3, 14), (98.7, 14), (105.2, 10), (115.8, 16), (120.4, 12)),
    *((128.9, 12), (135.6, 9), (143.2, 7), (159.8, 3), (178.5, 1)),
)
EVIDENCE = {
    "construction_progress_report": "施工进度报告（主体结构完成二分之一）",
    "supervision_engineer_confirmation": "监理单位形象进度确认意见",
    "topping_out_acceptance": "主体结构封顶验收记录",
    "completion_acceptance_report": "建设工程竣工验收报告",
    "completion_filing_certificate": "建设工程竣工验收备案证明",
    "first_registration_certificate": "不动产首次登记证明",
}
DOCUMENTS = {"wage_arrears_statement": "农民工工资无拖欠情况说明"}
APPROVAL_COMMENTS = {
    "reviewer": ("材料齐全，节点已核验，同意", "经初审，符合拨付条件", "资料完整，提交审批"),
    "approver": ("同意拨付", "同意，按节点比例拨付", "审批通过"),
    "director": ("同意", "同意拨付，注意留存资金", "同意，请银行按指令支付"),
}
