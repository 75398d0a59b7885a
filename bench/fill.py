"""Fill a casehall database with many realistic cases through COPY, for the read benchmarks (``bench/reads.py``).

    python -m bench.fill --cases 1000000                  # a fresh database casehall_bench on `make run`'s PostgreSQL
    python -m bench.fill --cases 10000000 --pgdata /big/pg  # an embedded PostgreSQL of its own in /big/pg
    python -m bench.fill --url postgresql+asyncpg://u@host/db --cases 100000

Cases span the last five years (weekdays, office hours, growing by 8 % a year), over a city hall of 36 departments
(Zipf-like shares) with 5 items each; old cases are closed (some rejected after an approved veto), recent ones spread
over the open statuses (short-lived ones only as recent as they last); applicants are citizens with Chinese names
(surnames by frequency) and companies; the
descriptions are Chinese sentences built from the item and a vocabulary of addresses, trades and materials. Each case
gets its events (a hash chain, unless ``--no-events``) and vetoes, overdue supplements and rectifications their tasks
(open for the cases waiting on them). The demo data (``casehall seed --demo``) comes first, so the demo users log in.

Rows go in with ``copy_records_to_table`` with the tables' secondary indexes dropped, foreign-key triggers off
(``session_replication_role = replica``: the rows reference what this script created) and are re-indexed and
analysed at the end. The schema is migrated first, to the code's newest revision unless ``--revision`` says otherwise.
"""

import argparse
import asyncio
import hashlib
import json
import random
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy import make_url

from casehall.core.settings import Settings
from casehall.stack.embedded import EmbeddedPostgres, free_port

YEARS = 5


def words(text: str) -> list[str]:
    return text.split()


BATCH = 20_000
TZ = timedelta(hours=8)  # the hall's office hours, in Beijing time

# Surnames by approximate frequency (per cent of the population), then given-name characters.
SURNAMES = words(
            "王 7.1 李 7.0 张 6.7 刘 5.4 陈 4.5 杨 3.1 黄 2.2 赵 2.1 吴 2.0 周 1.9 徐 1.5 孙 1.5 马 1.3 朱 1.3 胡 1.1 "
            "郭 1.1 何 1.1 高 1.0 林 1.0 罗 0.9 郑 0.9 梁 0.8 谢 0.7 宋 0.6 唐 0.6 许 0.6 韩 0.6 冯 0.5 邓 0.5 曹 0.5 "
            "彭 0.5 曾 0.5 肖 0.5 田 0.5 董 0.4 袁 0.4 潘 0.4 于 0.4 蒋 0.4 蔡 0.4 余 0.4 杜 0.4 叶 0.4 程 0.4 苏 0.3 "
            "魏 0.3 吕 0.3 丁 0.3 任 0.3 沈 0.3 姚 0.3 卢 0.3 姜 0.3 崔 0.3 钟 0.3 谭 0.3 陆 0.2 汪 0.2 范 0.2 金 0.2 "
            "石 0.2 廖 0.2 贾 0.2 夏 0.2 韦 0.2 付 0.2 方 0.2 白 0.2 邹 0.2 孟 0.2 熊 0.2 秦 0.2 邱 0.2 江 0.2 尹 0.2 "
            "薛 0.2 闫 0.2 段 0.1 雷 0.1 侯 0.1 龙 0.1 史 0.1 陶 0.1 黎 0.1 贺 0.1 顾 0.1 毛 0.1 郝 0.1 龚 0.1 邵 0.1 "
            "万 0.1 钱 0.1 严 0.1 覃 0.1 武 0.1 戴 0.1 莫 0.1 孔 0.1 向 0.1 汤 0.1 欧阳 0.05 司马 0.02")
GIVEN = words(
         "伟 芳 娜 秀 英 敏 静 丽 强 磊 军 洋 勇 艳 杰 娟 涛 明 超 兰 霞 平 刚 桂 玉 华 文 辉 建 国 红 林 海 鹏 飞 "
         "云 峰 宇 浩 凯 婷 雪 琳 晨 欣 悦 佳 怡 梓 涵 子 轩 博 睿 思 雨 嘉 一 晓 志 新 春 秋 冬 梅 兵 波 斌 鑫 宁 "
         "彬 倩 颖 慧 莉 萍 琴 燕 玲 丹 凤 亮 俊 帅 健 浩 振 宏 永 庆 德 福 贵 荣 成 龙 虎 山 川 江 河")
COMPANY_WORDS = words("长春 吉林 北方 东北 汇通 华信 鼎盛 恒达 瑞丰 嘉禾 宏图 金桥 百川 众诚 安泰 兴业 博远 天成 "
                 "德信 盛世 新源 创联 远航 顺达 合众 广源 立信 锦程")
TRADES = words("商贸 餐饮 建筑工程 物流 软件科技 医疗器械 农业发展 文化传媒 装饰工程 汽车服务 教育咨询 物业管理 "
          "食品 家政服务 印刷 环保科技 电子商务 旅游 养老服务 再生资源")
DISTRICTS = words("南关区 宽城区 朝阳区 二道区 绿园区 双阳区 九台区 净月区 高新区 经开区 汽开区 新区")
ROADS = words("人民大街 自由大路 解放大路 长春大街 亚泰大街 卫星路 前进大街 南湖大路 西安大路 建设街 同志街 "
         "重庆路 东盛大街 临河街 硅谷大街 繁荣路 普阳街 红旗街 吉林大路 东风大街")
PHRASES = ("材料齐全，申请即时办理", "申请人现场提交纸质材料", "通过网上大厅预审后到窗口核验",
           "委托代理人办理，附授权委托书",
           "经营场所为自有房产", "经营场所为租赁用房，附租赁合同", "申请加急办理", "此前曾因材料不全一次性告知",
           "需核对不动产权证书", "涉及跨部门联办", "申请人为残疾人，提供帮办代办服务", "电话预约后上门服务",
           "原证照遗失，已登报声明", "法定代表人变更", "注册资本增加", "经营范围调整", "住所迁移至本区",
           "营业执照副本换发", "申请人对前次办理结果不满意，重新申请", "需要现场勘验", "已缴纳相关费用",
           "身份证件有效期即将届满", "外省户籍人员，持居住证办理", "老年人申请，窗口优先办理")
ITEM_NAMES = {
    "MKT": ("个体工商户设立登记", "企业名称变更登记", "食品经营许可", "营业执照遗失补领", "特种设备使用登记"),
    "HOUSING": ("建筑工程施工许可", "商品房预售许可", "物业服务备案", "房屋租赁登记备案", "建设工程竣工验收备案"),
    "SOCIAL": ("养老保险关系转移接续", "失业保险金申领", "职业技能等级认定", "就业创业证申领", "工伤认定申请"),
}
# A city hall's other departments: code, name, five items each.
DEPARTMENTS = tuple((row[0], row[1], tuple(row[2:])) for row in map(words, """
EDU 教育局 民办学校设立审批 教师资格认定 校外培训机构审批 学籍转接 中小学入学登记
HEALTH 卫生健康委员会 医疗机构执业登记 医师执业注册 公共场所卫生许可 出生医学证明补发 母婴保健技术服务许可
TRANS 交通运输局 道路运输经营许可 出租汽车驾驶员从业资格 网约车运输证 港口经营许可 公路超限运输许可
NATRES 自然资源局 建设用地规划许可 不动产首次登记 不动产转移登记 抵押权登记 测绘资质审批
ECO 生态环境局 排污许可 建设项目环评审批 危险废物经营许可 辐射安全许可 噪声排放备案
CIVIL 民政局 婚姻登记 社会团体成立登记 养老机构备案 最低生活保障申请 殡葬服务备案
CULT 文化广电和旅游局 营业性演出许可 旅行社设立许可 娱乐场所经营许可 网吧经营许可 文物修缮审批
AGRI 农业农村局 农药经营许可 种子生产经营许可 动物防疫条件合格证 渔业捕捞许可 农机登记
WATER 水利局 取水许可 河道管理范围内建设项目审批 水土保持方案审批 洪水影响评价 入河排污口设置
COMM 商务局 对外贸易经营者备案 单用途预付卡备案 二手车交易市场备案 拍卖企业设立 报废机动车回收
PSB 公安局 户口迁移 居住证办理 身份证换领 出入境证件申请 机动车登记
TAX 税务局 发票申领 税务登记 纳税证明开具 个税汇算咨询 减免税备案
FIN 财政局 政府采购备案 会计代理记账许可 非税收入票据领用 资产评估备案 彩票销售网点审批
EMERG 应急管理局 危险化学品经营许可 烟花爆竹经营许可 安全生产许可 应急预案备案 安全评价备案
FORESTRY 林业和草原局 林木采伐许可 使用林地审核 野生动物驯养许可 植物检疫证书 林权登记
SPORT 体育局 高危体育项目经营许可 体育社团登记 健身场所备案 赛事活动备案 体育彩票网点
MEDINS 医疗保障局 医保关系转移 异地就医备案 门诊慢特病认定 医保定点申请 生育医疗费报销
HOUSEFUND 住房公积金中心 公积金提取 公积金贷款 缴存登记 个人账户转移 贷款结清证明
VETERAN 退役军人事务局 优待证申领 优抚对象认定 退役安置 伤残等级评定 就业创业扶持
ETHNIC 民族宗教事务局 宗教活动场所登记 清真食品认证 民族成分变更 宗教团体登记 宗教教职备案
STATS 统计局 统计调查项目审批 统计数据查询 名录库登记 统计执法咨询 统计证明
INDUS 工业和信息化局 无线电台执照 民爆物品销售许可 技术改造备案 专精特新认定 电力设施保护
SCI 科学技术局 高新技术企业认定 科技型中小企业评价 技术合同登记 科技成果登记 人类遗传资源审批
JUSTICE 司法局 律师执业许可 公证机构设立 法律援助申请 司法鉴定许可 基层法律服务
AUDITB 审计局 审计报告查询 内部审计备案 审计整改说明 政府投资审计 审计结果公告
GRAIN 粮食和物资储备局 粮食收购备案 储备粮轮换 粮油质量检验 粮食仓储备案 军粮供应
CITYMGT 城市管理局 户外广告设置许可 占道施工许可 城市道路挖掘许可 建筑垃圾处置核准 燃气经营许可
PORT 口岸办 口岸通关咨询 边境贸易备案 报关企业备案 检疫审批 出口退税联办
ARCH 档案局 档案查询 档案出境审批 档案寄存 档案复制件证明 档案鉴定
PRICE 发展和改革委员会 固定资产投资项目核准 企业投资项目备案 节能审查 价格认定 招标方案核准
MEDPROD 药品监督管理局 药品零售许可 医疗器械经营备案 化妆品生产许可 药品广告审查 执业药师注册
POST 邮政管理局 快递业务经营许可 快递末端网点备案 邮政设施迁移 集邮票品审批 快递分支机构备案
FIRE 消防救援支队 公众聚集场所投入使用前消防安全检查 消防设计审查 消防验收 消防产品监督 火灾事故认定
""".strip().splitlines()))
STATUS_RECENT = (("in_handling", 40), ("awaiting_callback", 18), ("closed", 18), ("awaiting_supplement", 6),
                 ("awaiting_materials", 4), ("registered", 3), ("rejected", 3), ("veto_requested", 2),
                 ("in_consultation", 2), ("supplement_overdue", 1), ("rectification", 1))
STATUS_OLD = (("closed", 95.5), ("rejected", 4.5))
# How many days a case stays at most in a short-lived status (a veto is decided in 1-2 working days ...): older
# cases drawn in it have moved on (to "in_handling" within the legal time limit, else "closed").
MAX_AGE = {"registered": 2, "veto_requested": 3, "supplement_overdue": 10, "rectification": 15,
           "in_consultation": 20, "awaiting_materials": 20, "awaiting_callback": 30}
SATISFACTION = (("very_satisfied", 70), ("satisfied", 22), ("basically_satisfied", 6), ("dissatisfied", 1.5),
                ("very_dissatisfied", 0.5))
CHANNELS = (("window", 70), ("online", 25), ("phone", 5))
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"
TASK_OF = {"veto_requested": "veto", "supplement_overdue": "supplement_overdue", "rectification": "rectification"}


def weighted(pairs: tuple[tuple[str, float], ...] | list[tuple[str, float]]) -> tuple[list[str], list[float]]:
    values = [p[0] for p in pairs]
    weights: list[float] = []
    total = 0.0
    for _, w in pairs:
        total += float(w)
        weights.append(total)
    return values, weights


@dataclass
class World:
    """The departments, items and users the cases refer to."""

    departments: list[tuple[str, str, str | None]] = field(default_factory=list)  # code, name, parent
    items: list[tuple[str, str, str, int]] = field(default_factory=list)  # code, name, department, days
    clerks: dict[str, list[int]] = field(default_factory=dict)  # department -> clerk ids


def citizen(rng: random.Random, surnames: tuple[list[str], list[float]]) -> tuple[str, str]:
    name = rng.choices(surnames[0], cum_weights=surnames[1])[0] + "".join(rng.choices(GIVEN, k=rng.choice((1, 2, 2))))
    body = (f"{rng.choice((220102, 220103, 220104, 220105, 220106, 220112, 220113, 220122, 110105, 230102))}"
            f"{rng.randint(1950, 2006)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}{rng.randint(0, 999):03d}")
    check = ID_CHECK[sum(int(d) * w for d, w in zip(body, ID_WEIGHTS, strict=True)) % 11]
    return name, body + check


def company(rng: random.Random) -> tuple[str, str]:
    name = f"长春{rng.choice(COMPANY_WORDS)}{rng.choice(COMPANY_WORDS)}{rng.choice(TRADES)}有限公司"
    code = "91220" + "".join(rng.choices("0123456789ABCDEFGHJKLMNPQRTUWXY", k=13))
    return name, code


def description(rng: random.Random, item: str, applicant: str) -> str:
    place = f"{rng.choice(DISTRICTS)}{rng.choice(ROADS)}{rng.randint(1, 3999)}号"
    parts = [f"{applicant}申请{item}", f"地址：{place}", rng.choice(PHRASES)]
    if rng.random() < 0.4:
        parts.append(f"主营{rng.choice(TRADES)}")
    if rng.random() < 0.3:
        parts.append(rng.choice(PHRASES))
    return "，".join(parts) + "。"


def days_back(now: datetime, n: int) -> list[tuple[date, int]]:
    """How many cases each weekday of the last five years gets: ``n`` in all, growing 8 % a year."""
    start = (now - timedelta(days=365 * YEARS)).date()
    days = [start + timedelta(d) for d in range((now.date() - start).days)]
    days = [d for d in days if d.weekday() < 5]
    weights = [1.08 ** ((d - start).days / 365) for d in days]
    total = sum(weights)
    counts = [int(n * w / total) for w in weights]
    for i in range(n - sum(counts)):
        counts[-1 - i % len(counts)] += 1
    return list(zip(days, counts, strict=True))


def chain(case_no: str, events: list[tuple[str, int | None, str | None, datetime, dict[str, Any]]]
          ) -> list[tuple[Any, ...]]:
    """Event rows with their hash chain (the same sha256 as ``casehall.core.hashing.event_hash``)."""
    rows: list[tuple[Any, ...]] = []
    prev = "0" * 64
    for seq, (kind, actor, role, at, payload) in enumerate(events, start=1):
        body = json.dumps({"prev": prev, "case": case_no, "seq": seq, "type": kind, "actor": actor,
                           "at": at.isoformat(), "payload": payload},
                          sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        digest = hashlib.sha256(body.encode()).hexdigest()
        rows.append((case_no, seq, kind, actor, role, at, json.dumps(payload, ensure_ascii=False), prev, digest))
        prev = digest
    return rows


CASE_COLUMNS = ("case_no", "item_code", "department_code", "status", "applicant_name", "applicant_phone",
                "applicant_id_number", "applicant_kind", "applicant_id_type", "channel", "hall", "window",
                "description", "handling_mode", "cross_region_urgent", "first_clerk_id", "clerk_id", "registered_at",
                "deadline", "deadline_provisional", "clock_paused", "missing_materials", "result", "satisfaction",
                "closed_at", "updated_at", "last_seq")
EVENT_COLUMNS = ("case_no", "seq", "type", "actor_id", "actor_role", "at", "payload", "prev_hash", "hash")
TASK_COLUMNS = ("case_no", "opened_seq", "kind", "role", "department_code", "summary", "opened_at", "due_at",
                "closed_at")


@dataclass
class Batch:
    cases: list[tuple[Any, ...]] = field(default_factory=list)
    events: list[tuple[Any, ...]] = field(default_factory=list)
    tasks: list[tuple[Any, ...]] = field(default_factory=list)


def generate(world: World, n: int, now: datetime, seed: int, with_events: bool) -> Iterator[Batch]:
    """The cases of five years in registration order, ``BATCH`` at a time."""
    rng = random.Random(seed)
    surnames = weighted([(SURNAMES[i], float(SURNAMES[i + 1])) for i in range(0, len(SURNAMES), 2)])
    # Departments by a Zipf-like share: the market regulator and the police take the most cases.
    ranked = ["MKT", "PSB", "TAX", "HOUSEFUND", "SOCIAL", "MEDINS", "NATRES", "HOUSING",
              *(code for code, _, _ in DEPARTMENTS)]
    depts = [code for code in dict.fromkeys(ranked) if world.clerks.get(code)]
    dept_pick = weighted([(code, 1 / (rank + 1) ** 0.8) for rank, code in enumerate(depts)])
    items_of: dict[str, list[tuple[str, str, int]]] = {}
    for code, name, dept, days in world.items:
        items_of.setdefault(dept, []).append((code, name, days))
    recent, old = weighted(STATUS_RECENT), weighted(STATUS_OLD)
    grades, channels = weighted(SATISFACTION), weighted(CHANNELS)
    batch = Batch()
    for day, count in days_back(now, n):
        age = (now.date() - day).days
        opening = datetime(day.year, day.month, day.day, 9, tzinfo=UTC) - TZ
        moments = sorted(rng.randrange(8 * 3600) for _ in range(count))
        for serial, second in enumerate(moments, start=1):
            at = opening + timedelta(seconds=second, microseconds=rng.randrange(1_000_000))
            dept = rng.choices(dept_pick[0], cum_weights=dept_pick[1])[0]
            item_code, item_name, limit_days = rng.choice(items_of[dept])
            clerk = rng.choice(world.clerks[dept])
            if rng.random() < 0.8:
                kind, id_type = "person", "resident_id"
                name, id_number = citizen(rng, surnames)
            else:
                kind, id_type = "company", "uscc"
                name, id_number = company(rng)
            phone = f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}"
            statuses = recent if age <= 45 else old
            status = rng.choices(statuses[0], cum_weights=statuses[1])[0]
            if age > MAX_AGE.get(status, age):
                status = "in_handling" if age <= limit_days * 7 // 5 + 1 else "closed"
            channel = rng.choices(channels[0], cum_weights=channels[1])[0]
            case_no = f"HALL-{day:%Y%m%d}-{serial:06d}"
            due = at + timedelta(days=limit_days * 7 // 5 + 1)
            deadline: datetime | None = due
            events: list[tuple[str, int | None, str | None, datetime, dict[str, Any]]] = [
                ("registered", clerk, "clerk", at, {"item_code": item_code, "applicant": name})]
            closed_at: datetime | None = None
            result = satisfaction = None
            missing: list[str] = []
            paused = False
            t = at + timedelta(minutes=rng.randint(5, 90))
            if status in ("awaiting_materials", "registered"):
                deadline = None
                if status == "awaiting_materials":
                    events.append(("one_time_notice_issued", clerk, "clerk", t, {"missing": ["身份证明"]}))
            elif status == "rejected":
                approved = {"legal_basis": "《行政许可法》第三十二条"}
                events += [("veto_requested", clerk, "clerk", t, {"reasons": "不符合法定条件"}),
                           ("veto_approved", None, "manager", t + timedelta(hours=20), approved)]
                closed_at, result = t + timedelta(hours=20), "rejected"
            else:
                events.append(("accepted", clerk, "clerk", t, {"deadline": due.isoformat()}))
                if status == "awaiting_supplement":
                    missing, paused = ["经营场所使用证明"], True
                    events[-1] = ("accepted_tolerantly", clerk, "clerk", t, {"missing": missing})
                elif status in ("veto_requested", "in_consultation", "supplement_overdue"):
                    kind_event = {"veto_requested": "veto_requested", "in_consultation": "consultation_convened",
                                  "supplement_overdue": "supplement_overdue"}[status]
                    events.append((kind_event, clerk, "clerk", t + timedelta(hours=2), {}))
                elif status in ("awaiting_callback", "closed", "rectification"):
                    done = t + timedelta(days=rng.randint(0, limit_days))
                    events.append(("completed", clerk, "clerk", done, {"result": "准予许可"}))
                    result = "approved"
                    if status != "awaiting_callback":
                        grade = rng.choices(grades[0], cum_weights=grades[1])[0]
                        if status == "rectification":
                            grade = "dissatisfied"
                        satisfaction = grade
                        rated = done + timedelta(days=rng.randint(1, 3))
                        kind_event = "callback_rated" if status == "closed" else "callback_dissatisfied"
                        events.append((kind_event, None, None, rated, {"grade": grade}))
                        if status == "closed":
                            closed_at = rated
            updated = events[-1][3]
            batch.cases.append((
                case_no, item_code, dept, status, name, phone, id_number, kind, id_type, channel, "市政务服务中心",
                f"{rng.choice('ABCDE')}{rng.randint(1, 30):02d}", description(rng, item_name, name),
                "online" if channel == "online" else "window", False, clerk, clerk, at, deadline, False, paused,
                json.dumps(missing, ensure_ascii=False), result, satisfaction, closed_at, updated, len(events)))
            task_kind = TASK_OF.get(status) or ("veto" if status == "rejected" else None)
            if task_kind:
                opened = events[-1][3] if status != "rejected" else events[-2][3]
                seq = len(events) if status != "rejected" else len(events) - 1
                batch.tasks.append((case_no, seq, task_kind, "manager", dept, f"{task_kind}：{name}申请{item_name}",
                                    opened, opened + timedelta(days=1), closed_at))
            if with_events:
                batch.events.extend(chain(case_no, events))
            if len(batch.cases) >= BATCH:
                yield batch
                batch = Batch()
    if batch.cases:
        yield batch


def asyncpg_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def build_world(conn: asyncpg.Connection, rng: random.Random) -> World:
    """The demo data plus 33 departments, their items and 4-40 clerks per department (inserted once)."""
    world = World()
    password = await conn.fetchval("SELECT password_hash FROM users WHERE username = 'clerk'")
    for code, name, items in DEPARTMENTS:
        await conn.execute("INSERT INTO departments (code, name, kind, parent_code, doc_prefix, reconsideration_body,"
                           " court) VALUES ($1, $2, 'department', 'CITY', '', '', '') ON CONFLICT DO NOTHING",
                           code, name)
        for i, item in enumerate(items, start=1):
            await conn.execute(
                "INSERT INTO service_items (code, name, department_code, time_limit_days, expedited_days, materials,"
                " rules) VALUES ($1, $2, $3, $4, $5, '[]', '{}') ON CONFLICT DO NOTHING",
                f"{code}-{i:03d}", item, code, 5 + 5 * (i % 3), 3)
    for dept, names in ITEM_NAMES.items():
        for i, item in enumerate(names, start=10):
            await conn.execute(
                "INSERT INTO service_items (code, name, department_code, time_limit_days, expedited_days, materials,"
                " rules) VALUES ($1, $2, $3, $4, $5, '[]', '{}') ON CONFLICT DO NOTHING",
                f"{dept}-{i:03d}", item, dept, 5 + 5 * (i % 3), 3)
    for code, name, parent in await conn.fetch("SELECT code, name, parent_code FROM departments ORDER BY code"):
        world.departments.append((code, name, parent))
    for code, name, dept, days in await conn.fetch(
            "SELECT code, name, department_code, time_limit_days FROM service_items WHERE code <> 'HALL-COMBINED'"):
        world.items.append((code, name, dept, days))
    items_by_dept = {dept for _, _, dept, _ in world.items}
    for code, _, parent in world.departments:
        if parent != "CITY" or code not in items_by_dept:
            continue
        for i in range(rng.randint(4, 40)):
            await conn.execute(
                "INSERT INTO users (username, display_name, role, department_code, password_hash, active, title)"
                " VALUES ($1, $2, 'clerk', $3, $4, true, '') ON CONFLICT (username) DO NOTHING",
                f"bench-{code.lower()}-{i}", f"窗口{code}{i}", code, password)
        for i in range(2):
            await conn.execute(
                "INSERT INTO users (username, display_name, role, department_code, password_hash, active, title)"
                " VALUES ($1, $2, 'manager', $3, $4, true, '科长') ON CONFLICT (username) DO NOTHING",
                f"bench-{code.lower()}-manager{i}", f"科长{code}{i}", code, password)
    for user_id, dept in await conn.fetch("SELECT id, department_code FROM users WHERE role = 'clerk'"):
        world.clerks.setdefault(dept, []).append(user_id)
    return world


async def secondary_indexes(conn: asyncpg.Connection, tables: tuple[str, ...]) -> list[tuple[str, str]]:
    """Indexes of ``tables`` that back no constraint: (name, definition)."""
    rows = await conn.fetch(
        "SELECT i.indexname, i.indexdef FROM pg_indexes i JOIN pg_class c ON c.relname = i.indexname"
        " WHERE i.schemaname = 'public' AND i.tablename = ANY($1::text[])"
        " AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = c.oid)", list(tables))
    return [(r["indexname"], r["indexdef"]) for r in rows]


async def fill(url: str, n: int, seed: int, with_events: bool, revision: str) -> dict[str, float]:
    """Migrate, seed the demo data, COPY ``n`` cases; the seconds each phase took."""
    from alembic import command

    from casehall.core.db import make_engine, make_sessionmaker
    from casehall.stack.seed import seed_demo
    from casehall.store.migrate import alembic_config

    times: dict[str, float] = {}
    start = time.perf_counter()
    await asyncio.to_thread(command.upgrade, alembic_config(url), revision)
    engine = make_engine(url)
    await seed_demo(make_sessionmaker(engine))
    await engine.dispose()
    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        if await conn.fetchval("SELECT count(*) FROM (SELECT 1 FROM cases LIMIT 1) c"):
            raise SystemExit("the database already holds cases: give a fresh one (bench.fill never adds to data)")
        world = await build_world(conn, random.Random(seed))
        times["migrate_seed_s"] = time.perf_counter() - start
        tables = ("cases", "case_events", "tasks")
        dropped = await secondary_indexes(conn, tables)
        for name, _ in dropped:
            await conn.execute(f'DROP INDEX "{name}"')
        await conn.execute("SET session_replication_role = replica")  # no foreign-key triggers while copying
        start, done = time.perf_counter(), 0
        now = datetime.now(UTC)
        for batch in generate(world, n, now, seed, with_events):
            await conn.copy_records_to_table("cases", records=batch.cases, columns=CASE_COLUMNS)
            if batch.events:
                await conn.copy_records_to_table("case_events", records=batch.events, columns=EVENT_COLUMNS)
            if batch.tasks:
                await conn.copy_records_to_table("tasks", records=batch.tasks, columns=TASK_COLUMNS)
            done += len(batch.cases)
            if done % 500_000 < BATCH:
                rate = done / (time.perf_counter() - start)
                print(f"  {done:>10,} cases copied ({rate:,.0f}/s)", file=sys.stderr, flush=True)
        await conn.execute("RESET session_replication_role")
        times["copy_s"] = time.perf_counter() - start
        start = time.perf_counter()
        await conn.execute("SET maintenance_work_mem = '1GB'")
        for name, definition in dropped:
            t0 = time.perf_counter()
            await conn.execute(definition)
            print(f"  index {name}: {time.perf_counter() - t0:.0f} s", file=sys.stderr, flush=True)
        times["index_s"] = time.perf_counter() - start
        start = time.perf_counter()
        await conn.execute("VACUUM (ANALYZE) cases")
        await conn.execute("VACUUM (ANALYZE) tasks")
        await conn.execute("VACUUM (ANALYZE) case_events")
        times["vacuum_analyze_s"] = time.perf_counter() - start
        times["cases"] = float(await conn.fetchval("SELECT count(*) FROM cases"))
        times["case_events"] = float(await conn.fetchval(
            "SELECT reltuples FROM pg_class WHERE relname = 'case_events'"))
        times["tasks"] = float(await conn.fetchval("SELECT count(*) FROM tasks"))
        times["database_mb"] = await conn.fetchval("SELECT pg_database_size(current_database())") / 2**20
    finally:
        await conn.close()
    return times


async def fresh_database(server_url: str, name: str) -> str:
    """``name`` dropped and created again on the server of ``server_url``; its URL."""
    url = make_url(server_url)
    conn = await asyncpg.connect(asyncpg_dsn(url.set(database="postgres").render_as_string(hide_password=False)))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return url.set(database=name).render_as_string(hide_password=False)


def start_postgres(pgdata: Path, port: int | None = None) -> EmbeddedPostgres:
    """An embedded PostgreSQL tuned for bulk loading and reads (it stops with this process)."""
    server = EmbeddedPostgres(pgdata, port or free_port())
    server.start(extra_args=("-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "shared_buffers=2GB",
                             "-c", "max_wal_size=8GB", "-c", "checkpoint_timeout=30min", "-c", "jit=off",
                             "-c", "random_page_cost=1.1", "-c", "effective_cache_size=12GB"))
    return server


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.fill", description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=100_000, help="how many cases (default 100000)")
    parser.add_argument("--url", help="the database (default: a fresh database on make run's PostgreSQL)")
    parser.add_argument("--database", default="casehall_bench", help="its name when created (default casehall_bench)")
    parser.add_argument("--pgdata", type=Path, help="start an embedded PostgreSQL in this directory instead")
    parser.add_argument("--port", type=int, help="port of that embedded PostgreSQL (default: a free one)")
    parser.add_argument("--no-events", dest="events", action="store_false", help="cases only, no case_events")
    parser.add_argument("--seed", type=int, default=16, help="random seed (default 16)")
    parser.add_argument("--revision", default="head", help="migrate to this revision first (default head)")
    args = parser.parse_args(argv)
    if args.cases < 1:
        parser.error("--cases must be at least 1")
    server = start_postgres(args.pgdata, args.port) if args.pgdata else None
    try:
        if args.url:
            url = args.url
        else:
            base = server.url() if server else Settings().resolved_database_url()
            try:
                url = asyncio.run(fresh_database(base, args.database))
            except OSError as err:
                print(f"no PostgreSQL at {base} ({err}): start `make run`, or give --url or --pgdata",
                      file=sys.stderr)
                return 1
        start = time.perf_counter()
        figures = asyncio.run(fill(url, args.cases, args.seed, args.events, args.revision))
        figures["total_s"] = time.perf_counter() - start
        print(json.dumps({"url": url, **{k: round(v, 1) for k, v in figures.items()}}, ensure_ascii=False))
    finally:
        if server:
            server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
