"""English and Chinese for k2d3's pages: which language a request wants, and the UI strings.

``?lang=en|zh`` wins (so a link can fix the language), then the ``Accept-Language`` header
(RFC 9110 §12.5.4: the highest q-value among ``en*`` and ``zh*`` ranges), then English.
Data labels come from the graph (``rdfs:label`` with ``@en``/``@zh``, see ``labels.py``); the
strings of the page chrome are one catalogue, ``strings.toml`` (a table a key, with ``en`` and
``zh``), read here once: code asks :func:`text` or :func:`messages`, templates use ``m['key']``.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from flask import Request, request

LANGS = ("en", "zh")
DEFAULT_LANG = "en"

#: The catalogue of interface strings (``strings.toml``, package data beside this module).
CATALOGUE = Path(__file__).with_name("strings.toml")


class Messages(dict[str, str]):
    """One language's strings by key (what templates get as ``m``): a key missing in the
    language falls back to English, then to the key itself, as :func:`text` does."""

    def __missing__(self, key: str) -> str:
        return MESSAGES[DEFAULT_LANG].get(key, key)


def load(path: Path = CATALOGUE) -> dict[str, Messages]:
    """The catalogue as one :class:`Messages` per language, keys in file order.

    Raises ``ValueError`` naming the key when an entry lacks a language or has another one.
    """
    with path.open("rb") as f:
        entries = tomllib.load(f)
    for key, entry in entries.items():
        if not isinstance(entry, dict) or set(entry) != set(LANGS):
            raise ValueError(f"{path.name}: [{key!r}] must have exactly {' and '.join(LANGS)}")
    return {lang: Messages({key: entry[lang] for key, entry in entries.items()})
            for lang in LANGS}


#: UI strings, by language, then key.
MESSAGES: dict[str, Messages] = load()


def _accept_language(header: str | None) -> str | None:
    """The supported language with the highest q-value in an Accept-Language header."""
    best: tuple[float, int, str] | None = None
    for position, item in enumerate((header or "").split(",")):
        tag, _, params = item.strip().partition(";")
        q = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                q = float(params[2:])
            except ValueError:
                continue
        primary = tag.strip().lower().split("-")[0]
        if primary in LANGS and q > 0 and (best is None or (q, -position) > best[:2]):
            best = (q, -position, primary)
    return best[2] if best else None


def pick_lang(req: Request | None = None) -> str:
    """``"en"`` or ``"zh"`` for this request: ``?lang=`` first, then Accept-Language."""
    req = req if req is not None else request
    asked = (req.args.get("lang") or "").lower().split("-")[0]
    if asked in LANGS:
        return asked
    return _accept_language(req.headers.get("Accept-Language")) or DEFAULT_LANG


def messages(lang: str) -> Messages:
    """All UI strings in ``lang`` (English for an unknown language), by key."""
    return MESSAGES.get(lang) or MESSAGES[DEFAULT_LANG]


def text(key: str, lang: str) -> str:
    """The UI string ``key`` in ``lang`` (English, then the key itself, as fallbacks)."""
    return messages(lang)[key]


def with_lang(path: str, lang: str, root: str = "") -> str:
    """A local link: ``root`` (the app's mount point) + ``path``, with ``lang=zh`` added when
    the page is Chinese (English is the default), before any ``#fragment``."""
    path, hash_, fragment = path.partition("#")
    if path.startswith("/"):
        path = root + path
    if lang != DEFAULT_LANG and "lang=" not in path:
        path += ("&" if "?" in path else "?") + urlencode({"lang": lang})
    return path + hash_ + fragment


def _switch_url(req: Request, lang: str) -> str:
    other = next(code for code in LANGS if code != lang)
    args = [(k, v) for k, v in req.args.items(multi=True) if k != "lang"] + [("lang", other)]
    return req.script_root + req.path + "?" + urlencode(args)


def template_context() -> dict[str, Any]:
    """Jinja globals for ``base.html`` (a context processor): ``lang``; ``m``, the UI strings
    in that language; ``href()``; ``lang_switch``; ``keep_lang``, the ``lang`` a form or link
    must carry to stay in this language (empty for the default)."""
    lang = pick_lang(request)
    return {
        "lang": lang,
        "m": messages(lang),
        "href": lambda path: with_lang(path, lang, request.script_root),
        "lang_switch": _switch_url(request, lang),
        "keep_lang": "" if lang == DEFAULT_LANG else lang,
    }
