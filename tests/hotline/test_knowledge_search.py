"""Which full-text search finds the knowledge-base entry an operator needs, on a small Chinese test set of questions
as callers ask them: pg_trgm similarity, ``to_tsvector('simple')`` on the raw text, and casehall's character
bigrams ('simple' tsvector of bigrams, ranked). Under the C locale pg_trgm builds no trigram of CJK characters and
'simple' makes one token of a whole Chinese sentence; bigrams find most entries, which is why casehall keeps them."""

from datetime import date

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from casehall.store import hotline_queries as hq

# (how a caller asks, the question of the entry that answers it)
TEST_SET = [
    ("今年什么时候开始供暖", "居民供暖期是什么时候？"),
    ("家里暖气不热室温只有15度", "暖气不热室温多少度可以投诉？"),
    ("小区突然停水了哪里能查通知", "停水了去哪里查询停水通知？"),
    ("公积金最多能贷多少钱", "公积金贷款最高额度是多少？"),
    ("社保卡丢了如何补办", "社保卡丢失怎么补办？"),
    ("养老保险要交满多少年", "养老保险最低缴费年限是多少？"),
    ("想开个小店办营业执照", "个体工商户营业执照怎么办理？"),
    ("物业费收费标准哪里能查到", "小区物业费收费标准在哪里查？"),
    ("末班公交车是几点", "公交车几点末班？"),
    ("燃气表怎么充值", "燃气表没气了怎么充值？"),
    ("刚出生的孩子怎么上医保", "新生儿医保怎么办理？"),
    ("老板拖欠工资去哪投诉", "被拖欠工资向哪里投诉？"),
]


async def _top_trgm(session: AsyncSession, q: str) -> str | None:
    return await session.scalar(text(
        "SELECT question FROM knowledge_entries WHERE similarity(question || ' ' || answer, :q) > 0 "
        "ORDER BY similarity(question || ' ' || answer, :q) DESC, id LIMIT 1"), {"q": q})


async def _top_simple(session: AsyncSession, q: str) -> str | None:
    return await session.scalar(text(
        "SELECT question FROM knowledge_entries, plainto_tsquery('simple', :q) query "
        "WHERE to_tsvector('simple', question || ' ' || answer) @@ query "
        "ORDER BY ts_rank(to_tsvector('simple', question || ' ' || answer), query) DESC, id LIMIT 1"), {"q": q})


async def test_bigrams_find_more_than_trigrams_or_simple(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as session:
        await session.execute(text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
        await session.commit()
        found = {"pg_trgm": 0, "simple": 0, "bigrams": 0}
        for asked, expected in TEST_SET:
            found["pg_trgm"] += await _top_trgm(session, asked) == expected
            found["simple"] += await _top_simple(session, asked) == expected
            hits = await hq.search_knowledge(session, asked, date(2026, 11, 22), limit=1)
            found["bigrams"] += bool(hits) and hits[0].entry.question == expected
    print(f"top-1 hits on {len(TEST_SET)} questions: {found}")
    assert found["bigrams"] >= 10
    assert found["bigrams"] > found["pg_trgm"] and found["bigrams"] > found["simple"]


async def test_stale_entries_are_flagged(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as session:
        hits = await hq.search_knowledge(session, "社保卡丢了", date(2027, 7, 1))
    assert hits and all(h.stale for h in hits)  # the demo entries are to be reviewed by 2027-06-30
