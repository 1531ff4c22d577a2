"""server/i18n.py: which language a request gets, and local links that keep it."""

from __future__ import annotations

import pytest
from flask import Flask

from server.pages.i18n import MESSAGES, pick_lang, with_lang


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
    assert set(MESSAGES["en"]) == set(MESSAGES["zh"])
