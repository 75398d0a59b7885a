"""Demo departments, users (one per role) and a service catalogue; safe to run again."""

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from casehall.core.db import transaction
from casehall.core.security import hash_password
from casehall.models.case import ItemRules
from casehall.models.tables import Department, ServiceItem, User
from casehall.stack.hotline_seed import seed_hotline
from casehall.store import repository
from casehall.store.queries import COMBINED_ITEM

DEMO_PASSWORD = "casehall"

COURT = "长春市朝阳区人民法院"
GOVERNMENT = "长春市人民政府"
DEPARTMENTS = [
    Department(code="CITY", name="市政务服务中心", kind="bureau", doc_prefix="长政服",
               reconsideration_body=GOVERNMENT, court=COURT),
    Department(code="MKT", name="市场监督管理局", kind="department", parent_code="CITY", doc_prefix="长市监",
               reconsideration_body=GOVERNMENT, court=COURT),
    Department(code="MKT-REG", name="登记注册科", kind="section", parent_code="MKT"),
    Department(code="HOUSING", name="住房和城乡建设局", kind="department", parent_code="CITY",
               doc_prefix="长住建", reconsideration_body=GOVERNMENT, court=COURT),
    Department(code="SOCIAL", name="人力资源和社会保障局", kind="department", parent_code="CITY",
               doc_prefix="长人社", reconsideration_body=GOVERNMENT, court=COURT),
]

# (username, display name, role, department, title)
USERS = [
    ("clerk", "王窗口", "clerk", "CITY", "窗口工作人员"),
    ("clerk2", "李窗口", "clerk", "CITY", "窗口工作人员"),
    ("manager", "张科长", "manager", "MKT", "科长"),
    ("manager-housing", "赵科长", "manager", "HOUSING", "科长"),
    ("manager-social", "孙科长", "manager", "SOCIAL", "科长"),
    ("director", "刘局长", "director", "CITY", "局长"),
    ("auditor", "陈督查", "auditor", "CITY", "督查专员"),
    ("admin", "系统管理员", "admin", "CITY", ""),
]


def _materials(*items: tuple[str, bool, str]) -> list[dict[str, object]]:
    return [{"name": n, "main": main, "how_to_supply": how} for n, main, how in items]


ITEMS = [
    ServiceItem(
        code=COMBINED_ITEM, name="统一受理（多事项）", department_code="CITY", time_limit_days=20, expedited_days=10,
        materials=[], rules=ItemRules().model_dump(mode="json"),
    ),
    ServiceItem(
        code="MKT-001", name="个体工商户设立登记", department_code="MKT", time_limit_days=3, expedited_days=1,
        materials=_materials(
            ("经营者身份证明", True, "身份证原件"),
            ("经营场所使用证明", True, "房产证或租赁合同复印件"),
            ("从业人员情况说明", False, "签字的书面说明"),
        ),
        rules=ItemRules().model_dump(mode="json"),
    ),
    ServiceItem(
        code="HOUSING-002", name="建筑工程施工许可", department_code="HOUSING", time_limit_days=7, expedited_days=3,
        materials=_materials(
            ("施工合同", True, "合同原件"),
            ("施工图审查合格书", True, "审查机构出具的合格书"),
            ("安全施工措施资料", False, "加盖公章的资料"),
            ("建设资金落实证明", False, "银行出具的资金证明"),
        ),
        rules=ItemRules(supplement_days=5, supplement_reminder_days=1).model_dump(mode="json"),
    ),
    ServiceItem(
        code="SOCIAL-003", name="养老保险关系转移接续", department_code="SOCIAL", time_limit_days=15,
        expedited_days=5, materials=_materials(("参保人身份证明", True, "身份证原件")),
        rules=ItemRules().model_dump(mode="json"),
    ),
]


async def seed_demo(sessions: async_sessionmaker[AsyncSession]) -> list[tuple[str, str]]:
    """Upsert the demo data; returns (username, role) of the demo log-ins."""
    async with transaction(sessions) as session:
        for dept in DEPARTMENTS:
            await repository.add_department(session, dept)
        for item in ITEMS:
            await repository.add_item(session, item)
        for username, name, role, dept_code, title in USERS:
            user = User(username=username, display_name=name, role=role, department_code=dept_code, title=title,
                        password_hash=hash_password(DEMO_PASSWORD))
            await repository.add_user(session, user)
        await seed_hotline(session, DEMO_PASSWORD)  # the 12345 hotline's units, catalogue, users, knowledge base
    return [(u, r) for u, _, r, _, _ in USERS]
