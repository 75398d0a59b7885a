"""Languages of the answers: Chinese (zh_CN, the default) and English, from the gettext catalogues in
``casehall/locale/<lang>/LC_MESSAGES/casehall.po``, compiled in memory with Babel when first used (no build step).

Message ids are English sentences with ``{placeholders}`` (see ``casehall.models.messages``); parameters that are
vocabulary (a status, a role, a verb) are translated too.
"""

import re
from collections.abc import Iterable
from functools import cache
from io import BytesIO
from pathlib import Path
from string import Formatter
from typing import Any

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

from casehall.models.messages import LABELS, PARAM_KINDS, render

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
DOMAIN = "casehall"
DEFAULT_LANG = "zh_CN"
LANGS = ("zh_CN", "en")
_WORKFLOW_ID = re.compile(r"(?:case|consultation)-([A-Z][\w-]*)")


def catalogue_path(lang: str) -> Path:
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def catalogue(lang: str) -> Catalog:
    """The parsed ``.po`` of ``lang``."""
    with catalogue_path(lang).open("rb") as f:
        return read_po(f, locale=lang, domain=DOMAIN)


@cache
def translations(lang: str) -> Translations:
    """``lang``'s catalogue compiled to ``.mo`` in memory (fuzzy and empty entries fall back to the English id)."""
    buffer = BytesIO()
    write_mo(buffer, catalogue(lang))
    buffer.seek(0)
    return Translations(fp=buffer, domain=DOMAIN)


def supported(lang: str | None) -> str | None:
    """The catalogue serving a language tag (``en-GB`` → ``en``, ``zh-Hans-CN``, ``zh-TW`` → ``zh_CN``), or None."""
    if not lang:
        return None
    primary = lang.strip().replace("_", "-").split("-")[0].lower()
    return {"zh": "zh_CN", "en": "en"}.get(primary)


def negotiate(accept_language: str | None, user_language: str | None = None) -> str:
    """The language to answer in: the user's own setting if supported, else the best of ``Accept-Language``
    (quality values honoured, ``q=0`` refused), else Chinese."""
    if chosen := supported(user_language):
        return chosen
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate((accept_language or "").split(",")):
        tag, _, rest = part.strip().partition(";")
        quality = 1.0
        if m := re.search(r"q\s*=\s*([^\s;,]*)", rest):
            try:
                quality = float(m.group(1))
            except ValueError:
                quality = 0.0
        if tag == "*":
            tag = DEFAULT_LANG
        if quality > 0 and (lang := supported(tag)):
            ranked.append((-quality, position, lang))
    return min(ranked)[2] if ranked else DEFAULT_LANG


def _lang(lang: str | None) -> str:
    return supported(lang) or DEFAULT_LANG


def gettext(msgid: str, lang: str | None) -> str:
    return translations(_lang(lang)).gettext(msgid)


def label(kind: str, value: Any, lang: str | None) -> str:
    """The screen name of a value of a vocabulary (``status``, ``role``, ``event``, ``satisfaction``, ``channel``,
    ``handling_mode``, ``instruction``, ``task``, ``document``, ``id_type``...); an unknown value as it is."""
    raw = str(getattr(value, "value", value))
    msgid = LABELS.get(kind, {}).get(raw)
    if msgid is None:
        return raw
    return str(translations(_lang(lang)).pgettext(kind, msgid))


def _join(values: Iterable[str], lang: str) -> str:
    return ("、" if lang == "zh_CN" else ", ").join(values)


def _param(name: str, value: Any, lang: str) -> Any:
    kind = PARAM_KINDS.get(name)
    if isinstance(value, str) and (m := _WORKFLOW_ID.fullmatch(value)):
        value = m.group(1)  # a workflow id never reaches a user: its case or consultation number does
    if kind is None:
        if isinstance(value, list | tuple | set | frozenset):
            return _join((str(v) for v in value), lang)
        return value
    if isinstance(value, str) and ", " in value and kind:
        value = value.split(", ")
    if isinstance(value, list | tuple | set | frozenset):
        return _join((label(kind, v, lang) if kind else gettext(str(v), lang) for v in value), lang)
    return label(kind, value, lang) if kind else gettext(str(value), lang)


def translate(msgid: str, lang: str | None, **params: Any) -> str:
    """``msgid`` in ``lang`` with its parameters filled (vocabulary parameters translated as well)."""
    code = _lang(lang)
    return render(gettext(msgid, code), {k: _param(k, v, code) for k, v in params.items()})


# ---- English text back to its message id (for errors raised with an already formatted English text) -------------
def _pattern(msgid: str) -> re.Pattern[str]:
    out, seen = [], set()
    for literal, field, _, _ in _formatter_parse(msgid):
        out.append(re.escape(literal))
        if field is None:
            continue
        if field.isidentifier() and field not in seen:
            seen.add(field)
            out.append(f"(?P<{field}>.+?)")
        elif field in seen:
            out.append(f"(?P={field})")
        else:
            out.append(".+?")
    return re.compile("".join(out), re.DOTALL)


def _formatter_parse(msgid: str) -> Iterable[tuple[str, str | None, str | None, str | None]]:
    try:
        return list(Formatter().parse(msgid))
    except ValueError:
        return [(msgid, None, None, None)]


@cache
def _patterns() -> list[tuple[str, re.Pattern[str]]]:
    ids = [m.id for m in catalogue(DEFAULT_LANG) if isinstance(m.id, str) and m.id and not m.context]
    ids.sort(key=lambda i: (-len(re.sub(r"\{[^}]*\}", "", i)), i))  # the most literal text first
    return [(i, _pattern(i)) for i in ids]


def parse(text: str) -> tuple[str, dict[str, str]] | None:
    """The message id and parameters an English ``text`` was formatted from, if the catalogue knows it."""
    if len(text) > 2000:
        return None
    for msgid, pattern in _patterns():
        if m := pattern.fullmatch(text):
            return msgid, m.groupdict()
    return None


def translate_text(text: str, lang: str | None) -> str:
    """An English text formatted from a known message id, in ``lang``; an unknown text unchanged."""
    found = parse(text)
    return translate(found[0], lang, **found[1]) if found else text
