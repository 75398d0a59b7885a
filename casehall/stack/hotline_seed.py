"""Demo data of the 12345 hotline: a unit network of thousands of rows (districts > streets > communities, plus
city departments and utilities under the centre), a dispatch catalogue, knowledge-base entries, demo users of every
hotline role and a demo Open311 client. Safe to run again."""

from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from casehall.core.security import hash_password, token_digest
from casehall.models.hotline_tables import DispatchRule, KnowledgeEntry, Unit
from casehall.models.tables import Department, User
from casehall.store import hotline_repository as repo
from casehall.store import queries, repository

CENTRE = "12345"
HOTLINE_DEPARTMENT = "HOTLINE"  # the users' department (the hall's tree); their unit is in ``unit_members``
DISTRICTS = ["朝阳区", "南关区", "宽城区", "二道区", "绿园区", "双阳区", "九台区", "经开区", "高新区", "净月区"]
STREET_STEMS = ["红旗", "桂林", "南湖", "永昌", "重庆", "清和", "前进", "湖西", "富锦", "乐山", "永吉", "宽平",
                "长通", "东站", "荣光"]
COMMUNITIES_PER_STREET = 20
DEPARTMENTS = [
    ("DEP-ZJ", "市住房和城乡建设局"), ("DEP-CG", "市城市管理局"), ("DEP-SJ", "市市场监督管理局"),
    ("DEP-JT", "市交通运输局"), ("DEP-HB", "市生态环境局"), ("DEP-RS", "市人力资源和社会保障局"),
    ("DEP-JY", "市教育局"), ("DEP-WJ", "市卫生健康委员会"), ("DEP-MZ", "市民政局"), ("DEP-ZR", "市自然资源局"),
    ("DEP-SW", "市水务局"), ("DEP-GA", "市公安局（非紧急警务）"),
]
UTILITIES = [
    ("UT-WATER", "市供水集团"), ("UT-HEAT", "市热力集团"), ("UT-GAS", "市燃气集团"), ("UT-POWER", "国网市供电公司"),
    ("UT-BUS", "市公交集团"),
]
CATALOGUE = [
    ("010101", "供水：停水、水压低", "UT-WATER"), ("010201", "供热：暖气不热", "UT-HEAT"),
    ("010301", "燃气：供气异常", "UT-GAS"), ("010401", "供电：停电", "UT-POWER"),
    ("020101", "噪声扰民", None), ("020201", "占道经营", "DEP-CG"), ("030101", "物业服务", "DEP-ZJ"),
    ("040101", "拖欠工资", "DEP-RS"), ("050101", "食品安全", "DEP-SJ"), ("060101", "公交线路与班次", "UT-BUS"),
    ("070101", "社会保险咨询", "DEP-RS"), ("080101", "道路破损", "DEP-JT"), ("990101", "其他", None),
]
DEMO_OPEN311_KEY = "demo-open311-key"  # printed in the README; change it in production (casehall has no default)


def street_code(district: int, street: int) -> str:
    return f"D{district:02d}-S{street:02d}"


def units() -> list[Unit]:
    """The demo network, parents before children: 1 centre, 12 departments, 5 utilities, 10 districts, 150
    streets, 3,000 communities."""
    out = [Unit(code=CENTRE, name="12345 政务服务便民热线", kind="centre")]
    out += [Unit(code=c, name=n, kind="department", parent_code=CENTRE) for c, n in DEPARTMENTS]
    out += [Unit(code=c, name=n, kind="utility", parent_code=CENTRE) for c, n in UTILITIES]
    for d, district in enumerate(DISTRICTS, start=1):
        out.append(Unit(code=f"D{d:02d}", name=district, kind="district", parent_code=CENTRE))
    for d, district in enumerate(DISTRICTS, start=1):
        for s, stem in enumerate(STREET_STEMS, start=1):
            out.append(Unit(code=street_code(d, s), name=f"{district}{stem}街道", kind="street",
                            parent_code=f"D{d:02d}"))
    for d, district in enumerate(DISTRICTS, start=1):
        for s, stem in enumerate(STREET_STEMS, start=1):
            for c in range(1, COMMUNITIES_PER_STREET + 1):
                out.append(Unit(code=f"{street_code(d, s)}-C{c:02d}", name=f"{district}{stem}街道第{c}社区",
                                kind="community", parent_code=street_code(d, s)))
    return out


# (username, display name, role, unit)
HOTLINE_USERS = [
    ("operator", "周话务", "operator", CENTRE),
    ("operator2", "吴话务", "operator", CENTRE),
    ("dispatcher", "郑派单", "dispatcher", CENTRE),
    ("supervisor", "冯督办", "supervisor", CENTRE),
    ("open311", "Open311 接入", "operator", CENTRE),
    ("street-handler", "钱承办", "unit_handler", street_code(1, 1)),  # 朝阳区红旗街道
    ("street-head", "孙主任", "unit_head", street_code(1, 1)),
    ("district-head", "李区长", "unit_head", "D01"),
    ("other-handler", "陈承办", "unit_handler", street_code(2, 1)),  # 南关区红旗街道
    ("heat-handler", "何承办", "unit_handler", "UT-HEAT"),
    ("water-handler", "吕承办", "unit_handler", "UT-WATER"),
]

KNOWLEDGE = [
    ("居民供暖期是什么时候？", "本市供暖期为每年10月25日至次年4月5日，遇气温异常可提前或延长。", "市供热条例",
     "UT-HEAT", "010201"),
    ("暖气不热室温多少度可以投诉？", "供热期间居民室温应不低于18℃，低于标准可拨打12345或供热企业热线报修。",
     "市供热条例第二十条", "UT-HEAT", "010201"),
    ("停水了去哪里查询停水通知？", "计划停水提前24小时在供水集团网站和公众号公告，可按小区名称查询。",
     "供水服务规范", "UT-WATER", "010101"),
    ("公积金贷款最高额度是多少？", "单方缴存职工最高贷款额度60万元，双方缴存最高80万元，以公积金中心公布为准。",
     "住房公积金管理办法", "DEP-ZJ", None),
    ("社保卡丢失怎么补办？", "携带身份证到社保经办窗口或通过“吉事办”小程序申请补卡，一般5个工作日内制卡完成。",
     "社会保障卡管理办法", "DEP-RS", "070101"),
    ("养老保险最低缴费年限是多少？", "累计缴费满15年，达到法定退休年龄后可按月领取基本养老金。",
     "社会保险法第十六条", "DEP-RS", "070101"),
    ("个体工商户营业执照怎么办理？", "可在政务服务中心市场监管窗口或网上办理，材料齐全当场办结。",
     "市场主体登记管理条例", "DEP-SJ", None),
    ("小区物业费收费标准在哪里查？", "普通住宅物业服务收费实行政府指导价，标准在住建局网站公示，小区应在显著位置公示。",
     "物业服务收费管理办法", "DEP-ZJ", "030101"),
    ("公交车几点末班？", "主城区公交线路末班车一般为21:00至22:00，具体以站牌和公交集团公众号为准。",
     "公交运营服务规范", "UT-BUS", "060101"),
    ("燃气表没气了怎么充值？", "可通过燃气集团公众号、营业厅或银行网点充值，IC卡表充值后需插卡。",
     "燃气供应服务规范", "UT-GAS", "010301"),
    ("新生儿医保怎么办理？", "出生后3个月内凭出生医学证明和户口簿办理参保登记，可享受出生之日起的待遇。",
     "城乡居民医保实施办法", "DEP-RS", "070101"),
    ("被拖欠工资向哪里投诉？", "可向用工所在地人社部门劳动保障监察机构投诉，或拨打12345转办。",
     "保障农民工工资支付条例", "DEP-RS", "040101"),
]


async def seed_hotline(session: AsyncSession, password: str) -> None:
    """Upsert the hotline's demo data in the caller's transaction."""
    await repository.add_department(session, Department(code=HOTLINE_DEPARTMENT, name="12345 热线服务中心",
                                                           kind="department", parent_code="CITY"))
    await repo.upsert_units(session, units())
    await repo.upsert_dispatch_rules(session, [DispatchRule(category_code=c, name=n, unit_code=u)
                                               for c, n, u in CATALOGUE])
    digest = hash_password(password)  # once: scrypt is slow on purpose
    for username, name, role, unit in HOTLINE_USERS:
        await repository.add_user(session, User(username=username, display_name=name, role=role,
                                                department_code=HOTLINE_DEPARTMENT, password_hash=digest))
        user = await queries.user_by_name(session, username)
        assert user is not None and user.id is not None
        await repo.set_unit_member(session, user.id, unit)
    for question, answer, source, unit_code, category in KNOWLEDGE:
        if not await repo.knowledge_entry_exists(session, question):
            await repo.add_knowledge_entry(session, KnowledgeEntry(
                question=question, answer=answer, source=source, unit_code=unit_code, category_code=category,
                effective_from=date(2026, 1, 1), review_by=date(2027, 6, 30)))
    open311 = await queries.user_by_name(session, "open311")
    assert open311 is not None and open311.id is not None
    await repo.add_open311_client(session, token_digest(DEMO_OPEN311_KEY), "demo client", open311.id)
