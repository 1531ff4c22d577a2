"""server/pages/i18n.py: which language a request gets, local links that keep it, and the one
catalogue of interface strings (server/pages/strings.toml) that code and templates read."""

from __future__ import annotations

import ast
import fnmatch
import re
import tomllib
from pathlib import Path

import pytest
from flask import Flask

from server.pages import i18n
from server.pages.i18n import MESSAGES, pick_lang, with_lang

ROOT = Path(__file__).resolve().parents[2]
SERVER = ROOT / "server"


@pytest.mark.parametrize(("query", "accept_language", "expected"), [
    ("", None, "en"),
    ("", "zh-CN,zh;q=0.9,en;q=0.8", "zh"),
    ("", "en-GB,en;q=0.9,zh;q=0.8", "en"),
    ("", "fr-FR,fr;q=0.9", "en"),
    ("", "fr,zh-Hans;q=0.5,en;q=0.4", "zh"),
    ("", "zh;q=0,en;q=0.1", "en"),
    ("", "en;q=0.5,zh-TW;q=0.6", "zh"),
    ("lang=zh", "en", "zh"),
    ("lang=en", "zh-CN", "en"),
    ("lang=ZH-hans", None, "zh"),
    ("lang=de", "zh", "zh"),
])
def test_pick_lang(query: str, accept_language: str | None, expected: str) -> None:
    app = Flask(__name__)
    headers = {"Accept-Language": accept_language} if accept_language else {}
    with app.test_request_context("/?" + query, headers=headers):
        from flask import request

        assert pick_lang(request) == expected


@pytest.mark.parametrize(("path", "lang", "root", "expected"), [
    ("/id/x", "en", "", "/id/x"),
    ("/id/x", "zh", "", "/id/x?lang=zh"),
    ("/ontology#Claim", "zh", "", "/ontology?lang=zh#Claim"),
    ("/id/x?page=2", "zh", "/k2d3", "/k2d3/id/x?page=2&lang=zh"),
    ("/id/x?lang=en", "zh", "", "/id/x?lang=en"),
])
def test_with_lang(path: str, lang: str, root: str, expected: str) -> None:
    assert with_lang(path, lang, root) == expected


def test_every_ui_string_has_both_languages() -> None:
    entries = tomllib.loads(i18n.CATALOGUE.read_text(encoding="utf-8"))
    lacking = [key for key, entry in entries.items()
               if set(entry) != {"en", "zh"} or not all(isinstance(v, str) and v.strip()
                                                        for v in entry.values())]
    assert not lacking, lacking
    assert set(MESSAGES["en"]) == set(MESSAGES["zh"]) == set(entries)


def test_a_catalogue_entry_without_a_language_is_refused_by_name(tmp_path: Path) -> None:
    bad = tmp_path / "strings.toml"
    bad.write_text('["nav.home"]\nen = "Home"\nzh = "首页"\n\n["nav.queries"]\nen = "Queries"\n',
                   encoding="utf-8")
    with pytest.raises(ValueError, match="nav.queries"):
        i18n.load(bad)


def test_a_missing_key_falls_back_to_english_then_to_the_key() -> None:
    assert i18n.text("nav.home", "zh") == "首页"
    assert i18n.text("nav.home", "fr") == "Home"
    assert i18n.messages("zh")["no.such.key"] == "no.such.key"


def test_the_catalogue_is_package_data() -> None:
    """An editable install reads it from the checkout; a wheel only has it if pyproject says."""
    tool = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]
    patterns = tool["setuptools"]["package-data"].get("server.pages", [])
    assert any(fnmatch.fnmatch(i18n.CATALOGUE.name, p) for p in patterns), patterns


def _python_files() -> list[Path]:
    return sorted(p for p in SERVER.rglob("*.py") if "__pycache__" not in p.parts)


def _templates() -> list[Path]:
    return sorted(p for p in (SERVER / "templates").rglob("*") if p.suffix in (".html", ".svg"))


def _names_lang(node: ast.expr) -> bool:
    name = node.id if isinstance(node, ast.Name) else getattr(node, "attr", "")
    return name == "lang" or name.endswith("_lang")


def test_no_inline_language_switch_in_the_code() -> None:
    """``"..." if lang == "en" else "..."`` and its kin: a comparison of a language with a
    literal language code (strings belong in the catalogue, link logic in ``i18n``)."""
    codes = set(i18n.LANGS)
    found = []
    for path in _python_files():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Compare):
                continue
            operands = [node.left, *node.comparators]
            if any(_names_lang(o) for o in operands) and any(
                    isinstance(o, ast.Constant) and o.value in codes for o in operands):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not found, found


def test_no_inline_language_switch_in_the_templates() -> None:
    switch = re.compile(r"""lang\s*[!=]=\s*['"]|['"]\s*[!=]=\s*lang\b""")
    found = [f"{path.relative_to(ROOT)}:{text[:m.start()].count(chr(10)) + 1}"
             for path in _templates() for text in [path.read_text(encoding="utf-8")]
             for m in switch.finditer(text)]
    assert not found, found


def test_no_chinese_text_outside_the_catalogue() -> None:
    """Chinese in a page module, view or template (other than a docstring) is an interface
    string that escaped the catalogue."""
    cjk = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")
    found = [f"{p.relative_to(ROOT)}" for p in _templates() if cjk.search(p.read_text("utf-8"))]
    for path in _python_files():
        if path.parent.name not in ("pages", "views"):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docstrings = {id(n.body[0].value) for n in ast.walk(tree)
                      if isinstance(n, ast.Module | ast.ClassDef | ast.FunctionDef)
                      and n.body and isinstance(n.body[0], ast.Expr)}
        found += [f"{path.relative_to(ROOT)}:{n.lineno}" for n in ast.walk(tree)
                  if isinstance(n, ast.Constant) and isinstance(n.value, str)
                  and id(n) not in docstrings and cjk.search(n.value)]
    assert not found, found


def _exists(key: str) -> bool:
    """A key of the catalogue, or (ending with ``.``) the prefix of at least one."""
    keys = MESSAGES["en"]
    return key in keys or (key.endswith(".") and any(k.startswith(key) for k in keys))


def test_every_key_a_template_uses_is_in_the_catalogue() -> None:
    """``m['key']``, and ``m['prefix.' ~ name]`` (some key has the prefix)."""
    use = re.compile(r"""\bm\[\s*'([^']*)'\s*([\]~+])""")
    used = {(m.group(1), m.group(2)) for p in _templates() for m in use.finditer(p.read_text())}
    assert len(used) > 150  # the pattern still finds the templates' keys
    missing = [key for key, after in used
               if not _exists(key) or (after != "]") != key.endswith(".")]
    assert not missing, missing


def test_every_key_the_code_uses_is_in_the_catalogue() -> None:
    """String constants in pages and views shaped like a key of one of the catalogue's groups
    (``queries.map.line``, ``verdict.gap``, ``editor.js.``), file names aside."""
    groups = {k.split(".")[0] for k in MESSAGES["en"] if "." in k}
    shape = re.compile(r"^(" + "|".join(sorted(groups)) + r")\.[\w.]*$")
    file_name = re.compile(r"\.(html|svg|ttl|toml|json|rq|md)$")
    used = {(str(n.value), path.name) for path in _python_files()
            if path.parent.name in ("pages", "views")
            for n in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
            if isinstance(n, ast.Constant) and isinstance(n.value, str)
            and shape.match(n.value) and not file_name.search(n.value)}
    assert {"verdict.gap", "queries.map.line", "topic."} <= {key for key, _ in used}
    missing = sorted((key, module) for key, module in used if not _exists(key))
    assert not missing, missing


def test_every_topic_of_the_catalogue_page_has_a_heading() -> None:
    from server.views.queries import TOPICS

    assert all(f"topic.{topic}" in MESSAGES["en"] for topic in TOPICS)
