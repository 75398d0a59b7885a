"""Search terms for Chinese text in PostgreSQL's 'simple' text search: character bigrams of each run of CJK
characters, and the lower-cased words of anything else. Chinese has no spaces: ``to_tsvector('simple', ...)`` on
the raw text makes one token of a whole sentence, and pg_trgm builds no trigrams of CJK characters under the C
locale; bigrams (the usual baseline of Chinese retrieval) match a question asked in other words.
``tests/hotline/test_knowledge_search.py`` measures the three on a test set."""

import re

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_WORD = re.compile(r"[0-9A-Za-z]+")
# Frequent function words that make bigrams of no meaning (的 了 吗 ...), dropped from queries only.
_STOP = set("的了吗呢啊吧么是在和与及或我你他她它们请问怎么如何什么哪里多少可以能否要")


def bigrams(value: str) -> list[str]:
    """The terms of ``value``: CJK bigrams (a lone character stays itself) and ASCII words, in order."""
    out: list[str] = []
    for run in _CJK.findall(value):
        out.extend(run[i:i + 2] for i in range(max(1, len(run) - 1)))
    out.extend(w.lower() for w in _WORD.findall(value))
    return out


def query_terms(value: str) -> list[str]:
    """The bigrams of a question, without those made only of function words; distinct, in order."""
    seen: dict[str, None] = {}
    for term in bigrams(value):
        if not all(ch in _STOP for ch in term):
            seen.setdefault(term, None)
    return list(seen)
