"""server/rdf/coverage.py: every clause of the article is quoted for a claim or marked as no
claim."""

from __future__ import annotations

from copy import copy

import pytest
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import RDF

from server.build import validate as v
from server.rdf import coverage as cv

OA = Namespace("http://www.w3.org/ns/oa#")
K2DI = Namespace("https://w3id.org/k2d3/id/")


@pytest.fixture(scope="module")
def article() -> str:
    return v.read_article()


@pytest.fixture(scope="module")
def data() -> Graph:
    return v.load_graph_data()


def test_sentences_and_clauses_split_at_the_article_punctuation() -> None:
    text = "<markdown>\n\n**标题**\n\n甲,乙。丙、丁?戊——己\n</markdown>\n"
    sentences = cv.sentences(text)
    assert [s.text for s in sentences] == ["标题", "甲,乙", "丙、丁", "戊——己"]
    assert [[c.text for c in s.clauses] for s in sentences] == [
        ["标题"], ["甲", "乙"], ["丙", "丁"], ["戊", "己"]]
    clause = sentences[1].clauses[1]
    assert text[clause.start:clause.end] == "乙"


def test_locate_honours_prefix_and_suffix() -> None:
    text = "骨骼健康、免疫功能\n**骨骼健康**\n"
    assert len(cv.locate(text, "骨骼健康")) == 2
    assert cv.locate(text, "骨骼健康", prefix="**") == [text.rindex("骨骼健康")]
    assert cv.locate(text, "骨骼健康", suffix="、") == [0]
    assert cv.locate(text, "不在文中") == []


def test_a_clause_is_covered_only_whole() -> None:
    text = "甲乙,丙丁。"
    sentences = cv.sentences(text)
    assert [c.text for c in cv.uncovered(sentences, [(0, 2)])] == ["丙丁"]
    assert [c.text for c in cv.uncovered(sentences, [(0, 1), (3, 5)])] == ["甲乙"]
    assert cv.uncovered(sentences, [(0, 6)]) == []
    assert cv.coverage(sentences, [(0, 2)]) == 0.5


def test_a_quotation_must_not_cut_a_clause() -> None:
    text = "提出的协同作用听起来很有道理,但真的那么简单吗?"
    sentences = cv.sentences(text)
    whole = text.index("?") + 1
    assert cv.cut_clauses(text, sentences, 0, whole) == []
    assert cv.cut_clauses(text, sentences, 0, text.index(",")) == []  # a clause may stand alone
    problems = cv.cut_clauses(text, sentences, 3, text.index(","))
    assert problems and problems[0].startswith("starts inside a clause")
    assert cv.cut_clauses(text, sentences, 0, 5)[0].startswith("ends inside a clause")


def test_the_article_is_fully_accounted_for(data: Graph, article: str) -> None:
    assert cv.coverage_errors(data, article) == []
    assert "142 of 142 clauses" in cv.summary(data, article)


def test_a_sentence_nobody_accounts_for_is_reported(data: Graph, article: str) -> None:
    broken = copy(data)
    passage = K2DI["no-claim-transition-evidence-selector"]
    broken.remove((passage, OA.exact, None))
    errors = cv.coverage_errors(broken, article)
    assert any("让我们仔细看看相关证据" in e for e in errors), errors
    assert any("of the article's clauses are accounted for" in e for e in errors)


def test_the_synergy_quotation_cannot_drop_its_doubt(data: Graph, article: str) -> None:
    """The review's finding: quoting only "提出的协同作用听起来很有道理" reverses its sense."""
    broken = copy(data)
    selector = K2DI["quote-synergy-plausible-selector"]
    broken.set((selector, OA.exact, Literal("提出的协同作用听起来很有道理")))
    errors = cv.coverage_errors(broken, article)
    assert any("但真的那么简单吗" in e for e in errors), errors


def test_a_quotation_cut_mid_clause_is_reported(data: Graph, article: str) -> None:
    broken = copy(data)
    broken.set((K2DI["quote-ma-2020-selector"], OA.exact, Literal("这种组合可以增加总")))
    errors = cv.coverage_errors(broken, article)
    assert any(str(K2DI["quote-ma-2020-selector"]) in e and "ends inside a clause" in e
               for e in errors), errors


def test_author_wording_must_be_verbatim(data: Graph, article: str) -> None:
    broken = copy(data)
    line = K2DI["el-d3-k2-bmd-rcts"]
    broken.add((line, URIRef("https://w3id.org/k2d3/ontology#authorWording"),
                Literal("证据非常充分", lang="zh")))
    assert any("authorWording" in e for e in v.quotation_errors(broken, article))


def test_every_passage_without_a_claim_is_classified(data: Graph) -> None:
    classifying = set(data.subjects(OA.motivatedBy, OA.classifying))
    assert len(classifying) >= 15
    for annotation in classifying:
        assert (annotation, RDF.type, OA.Annotation) in data
        kind = data.value(annotation, OA.hasBody)
        assert kind is not None and str(kind).startswith(str(K2DI) + "passage-")
