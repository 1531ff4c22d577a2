"""Tests for server.build.validate: the shipped data passes every check, and broken data fails
each."""

from __future__ import annotations

import csv
import unicodedata
from pathlib import Path

import pytest
from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import RDF, RDFS, SKOS
from rdflib.plugins.sparql import prepareQuery

from server import paths
from server.build import identifiers as ids
from server.build import validate as v

K2D3 = Namespace("https://w3id.org/k2d3/ontology#")
K2DI = Namespace("https://w3id.org/k2d3/id/")
OA = Namespace("http://www.w3.org/ns/oa#")
PROV = Namespace("http://www.w3.org/ns/prov#")
DATA_DIR = Path(__file__).parents[1] / "data"
INVALID = sorted((DATA_DIR / "invalid").glob("*.ttl"))


@pytest.fixture(scope="module")
def ontology() -> Graph:
    return v.load_ontology()


@pytest.fixture(scope="module")
def shapes() -> Graph:
    return v.load_shapes()


@pytest.fixture(scope="module")
def data() -> Graph:
    return v.load_graph_data()


@pytest.fixture(scope="module")
def union(data: Graph, ontology: Graph) -> Graph:
    return data + ontology


@pytest.fixture(scope="module")
def article() -> str:
    return v.read_article()


def copy(graph: Graph) -> Graph:
    out = Graph()
    for triple in graph:
        out.add(triple)
    return out


# --- SHACL ---------------------------------------------------------------------------------


def test_graph_data_conforms(data: Graph, shapes: Graph, ontology: Graph) -> None:
    assert v.shacl_violations(data, shapes, ontology) == []


def parse_expectation(path: Path) -> tuple[str, str, str | None]:
    first = path.read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith("# expect: "), f"{path.name}: first line is '# expect: ...'"
    component, focus, result_path = first.removeprefix("# expect:").split()
    return component, focus, None if result_path == "-" else result_path


@pytest.mark.parametrize("example", INVALID, ids=[p.stem for p in INVALID])
def test_invalid_example_fails_as_expected(
    example: Path, data: Graph, shapes: Graph, ontology: Graph
) -> None:
    component, focus, result_path = parse_expectation(example)
    broken = copy(data)
    broken.parse(example, format="turtle")
    violations = v.shacl_violations(broken, shapes, ontology)
    assert violations, f"{example.name} should not conform"
    matches = [
        x for x in violations
        if x.component_name == component and x.focus == focus
        and (result_path is None or x.path == result_path)
    ]
    assert matches, f"expected {component} at {focus} {result_path}; got " + "; ".join(
        map(str, violations))


def test_there_are_invalid_examples() -> None:
    assert len(INVALID) >= 10


# --- quotations ----------------------------------------------------------------------------


def test_quotations_are_verbatim(data: Graph, article: str) -> None:
    assert v.quotation_errors(data, article) == []


def test_article_is_the_shared_copy_and_nfc(article: str) -> None:
    raw = paths.source_article().read_text(encoding="utf-8")
    assert unicodedata.normalize("NFC", raw) == article
    assert "\u00a0" in article, "the article's non-breaking spaces must be kept"


def _a_selector(data: Graph) -> URIRef:
    return K2DI["quote-rct-bmd-selector"]


def test_altered_quotation_is_caught(data: Graph, article: str) -> None:
    broken = copy(data)
    sel = _a_selector(broken)
    exact = broken.value(sel, OA.exact)
    broken.set((sel, OA.exact, Literal(str(exact).replace(",", "\uff0c"))))
    errors = v.quotation_errors(broken, article)
    assert any(str(sel) in e and "not found" in e for e in errors)


def test_non_nfc_quotation_is_caught(data: Graph) -> None:
    broken = copy(data)
    sel = _a_selector(broken)
    decomposed = "Cafe\u0301"
    broken.set((sel, OA.exact, Literal(decomposed)))
    errors = v.quotation_errors(broken, "Café au lait")
    assert any("NFC" in e for e in errors)


def test_ambiguous_quotation_needs_prefix_or_suffix(data: Graph, article: str) -> None:
    broken = copy(data)
    sel = _a_selector(broken)
    assert article.count("维生素 K2") > 1
    broken.set((sel, OA.exact, Literal("维生素 K2")))
    assert any("occurs" in e for e in v.quotation_errors(broken, article))
    # a prefix that picks exactly one occurrence fixes it
    i = article.find("维生素 K2(甲萘醌)")
    broken.set((sel, OA.prefix, Literal(article[i - 10:i])))
    assert v.quotation_errors(broken, article) == []
    # a prefix that matches no occurrence is an error
    broken.set((sel, OA.prefix, Literal("不存在的前缀")))
    assert any("match no occurrence" in e for e in v.quotation_errors(broken, article))


def test_annotation_without_selector_chain_is_caught(data: Graph, article: str) -> None:
    broken = copy(data)
    broken.remove((K2DI["quote-rct-bmd"], OA.hasTarget, None))
    assert any("quote-rct-bmd" in e for e in v.quotation_errors(broken, article))


# --- identifiers ---------------------------------------------------------------------------


def test_identifiers_are_all_in_the_table(union: Graph) -> None:
    assert ids.identifier_errors(union, paths.identifiers_table()) == []


def test_identifier_table_is_read(union: Graph) -> None:
    statuses = ids.read_identifiers(paths.identifiers_table())
    assert statuses["http://purl.obolibrary.org/obo/CHEBI_28940"] == "verified"
    assert statuses["http://purl.obolibrary.org/obo/MONDO_0005154"] == "nearest"
    assert statuses["https://doi.org/10.1039/c9fo03063h"] == "probable"
    assert statuses["https://pubmed.ncbi.nlm.nih.gov/32219282"] == "probable"


@pytest.mark.parametrize(
    ("triple", "expected"),
    [
        ((K2DI.calcium, SKOS.exactMatch, URIRef("http://purl.obolibrary.org/obo/CHEBI_99999")),
         "not in identifiers.tsv"),
        ((K2DI["chronic-liver-disease"], SKOS.exactMatch,
          URIRef("http://purl.obolibrary.org/obo/MONDO_0005154")), "nearest"),
        ((K2DI["meta-analysis-2020"], SKOS.exactMatch, URIRef("https://doi.org/10.1039/c9fo03063h")),
         "probable"),
        ((K2DI["claim-d3-k2-total-bmd"], SKOS.closeMatch,
          URIRef("https://pubmed.ncbi.nlm.nih.gov/32219282")), "without k2d3:identificationBasis"),
        ((K2DI.bmd, RDFS.seeAlso, URIRef("https://example.org/bmd")), "not in identifiers.tsv"),
    ],
)
def test_bad_identifier_use_is_caught(union: Graph, triple: tuple, expected: str) -> None:
    broken = copy(union)
    broken.add(triple)
    errors = ids.identifier_errors(broken, paths.identifiers_table())
    assert any(expected in e for e in errors), errors


def test_unverified_identifier_is_caught(union: Graph, tmp_path: Path) -> None:
    table = paths.identifiers_table().read_text(encoding="utf-8")
    table = table.replace("warfarin\tverified", "warfarin\tunverified")
    tsv = tmp_path / "identifiers.tsv"
    tsv.write_text(table, encoding="utf-8")
    errors = ids.identifier_errors(union, tsv)
    assert any("D014859" in e and "unverified" in e for e in errors)


def test_curie_to_iri() -> None:
    assert ids.curie_to_iri("HP:0000978") == "http://purl.obolibrary.org/obo/HP_0000978"
    assert ids.curie_to_iri("MESH:D014807") == "http://id.nlm.nih.gov/mesh/D014807"
    assert ids.curie_to_iri("UNIPROT:P02818") == "http://purl.uniprot.org/uniprot/P02818"
    with pytest.raises(ValueError):
        ids.curie_to_iri("XYZ:1")


# --- check queries -------------------------------------------------------------------------


def _remove(g: Graph, s, p, o=None) -> None:
    assert (s, p, o) in g, f"nothing to remove: {s} {p} {o}"
    g.remove((s, p, o))


BREAKERS = {
    "activation-without-claim": lambda g: g.add(
        (K2DI.osteocalcin, K2D3.activatedBy, K2DI["vitamin-d3"])),
    "blank-node-in-data": lambda g: g.add((K2DI.bmd, SKOS.note, BNode())),
    "claim-without-evidence-or-verdict": lambda g: _remove(
        g, K2DI["claim-d3-k2-bmd"], K2D3.verdict),
    "claim-without-quotation": lambda g: _remove(g, K2DI["claim-d3-k2-bmd"], K2D3.hasQuotation),
    "dangling-reference": lambda g: g.add(
        (K2DI["claim-d3-k2-bmd"], K2D3.population, K2DI["pop-postmenopausal-womn"])),
    "direct-triple-without-claim": lambda g: g.add(
        (K2DI.mgp, K2D3.inhibitsCalciumDepositionIn, K2DI.bone)),
    "direction-on-wrong-relation": lambda g: g.add(
        (K2DI["claim-k2-activates-osteocalcin"], K2D3.direction, K2DI["direction-increased"])),
    "evidence-item-design-mismatch": lambda g: g.add(
        (K2DI["el-d3-k2-bmd-rcts"], K2D3.hasEvidenceItem, K2DI["meta-analysis-2020"])),
    "evidence-line-incomplete": lambda g: _remove(g, K2DI["el-d3-k2-bmd-rcts"], K2D3.studyDesign),
    "exact-match-from-study": lambda g: g.add(
        (K2DI["meta-analysis-2020"], SKOS.exactMatch, URIRef("https://doi.org/10.1039/c9fo03063h"))),
    "graded-certainty-without-basis": lambda g: _remove(
        g, K2DI["el-d3-k2-bmd-rcts"], K2D3.certaintyBasis),
    "marketing-claim-endorsed": lambda g: g.set(
        (K2DI["claim-marketing-d3-alone-arterial-calcification"], K2D3.verdict,
         K2DI["verdict-supported"])),
    "quotation-body-mismatch": lambda g: _remove(
        g, K2DI["quote-rct-bmd"], OA.hasBody, K2DI["claim-d3-k2-bmd"]),
    "quotation-incomplete": lambda g: _remove(g, K2DI["quote-rct-bmd"], PROV.wasQuotedFrom),
    "recommendation-incomplete": lambda g: _remove(
        g, K2DI["rec-uspstf-k2-not-addressed"], K2D3.recommendationDirection),
    "resource-without-bilingual-label": lambda g: _remove(
        g, K2DI.calcium, RDFS.label, Literal("钙", lang="zh")),
    # only the Chinese definition goes: the English one alone is not enough
    "term-without-definition": lambda g: _remove(g, K2D3.Claim, SKOS.definition, next(
        d for d in g.objects(K2D3.Claim, SKOS.definition) if d.language == "zh")),
    "undeclared-term": lambda g: g.add((K2DI.bmd, K2D3.undeclaredProperty, Literal("x"))),
    # the review's findings (issue 11), each put back
    "evaluator-asserts-what-he-rejects": lambda g: g.add(
        (K2DI["claim-d3-k2-fractures"], K2D3.assertedBy, K2DI["scott-gavura"])),
    "association-recorded-as-cause": lambda g: g.set(
        (K2DI["claim-low-dk-status-mortality"], K2D3.predicate, K2DI["relation-affects"])),
    "hedge-lost": lambda g: _remove(
        g, K2DI["claim-k2-more-readily-absorbed-than-k1"], K2D3.hedge, K2DI["hedge-appears"]),
    "curator-inference-attributed-to-author": lambda g: g.set(
        (K2DI["claim-vitamin-k-activates-clotting-factors"], K2D3.assertedBy,
         K2DI["scott-gavura"])),
    "look-alike-without-class-link": lambda g: _remove(
        g, K2DI["vitamin-k-antagonists"], K2D3.groupClass, K2D3.VitaminKAntagonist),
    "exact-match-to-publication-type": lambda g: g.add(
        (K2DI["design-rct"], SKOS.exactMatch, URIRef("http://id.nlm.nih.gov/mesh/D016449"))),
    "british-spelling": lambda g: g.add(
        (K2DI["bone-mineralization"], SKOS.note, Literal("normal bone mineralisation", lang="en"))),
    "attribution-without-basis": lambda g: g.remove(
        (K2DI["claim-marketing-k2-makes-d3-safer"], K2D3.attributionBasis, None)),
    "quotation-without-translation": lambda g: g.remove(
        (K2DI["quote-vka"], K2D3.curatedTranslation, None)),
    "indirectness-on-measured-outcome": lambda g: g.add(
        (K2DI["el-d3-k2-bmd-rcts"], K2D3.downgradedFor, K2DI["grade-indirectness"])),
}


def _gap_as_trial_line(g: Graph) -> None:
    """The review's finding 2: "no large high-quality RCT" recorded as an RCT line, very low."""
    line = K2DI["el-d3-k2-fractures-rcts"]
    g.add((K2DI["claim-d3-k2-fractures"], K2D3.hasEvidenceLine, line))
    for p, o in [(RDF.type, K2D3.EvidenceLine),
                 (K2D3.evidenceType, K2DI["evidence-type-studies"]),
                 (K2D3.studyDesign, K2DI["design-rct"]),
                 (K2D3.certainty, K2DI["certainty-very-low"]),
                 (K2D3.evidenceDirection, K2DI["evidence-inconclusive"])]:
        g.add((line, p, o))


#: More of the review's findings: each mutation must make the named check fail.
REGRESSIONS = {
    "gap recorded as a trial line (no study)": ("evidence-line-incomplete", _gap_as_trial_line),
    "very low given to trials that do not exist": ("graded-certainty-without-basis",
                                                   _gap_as_trial_line),
    "high for evidence-based wording with no design": ("graded-certainty-without-basis",
        lambda g: g.set((K2DI["el-infant-vitamin-k-evidence-based"], K2D3.certainty,
                         K2DI["certainty-high"]))),
    "the author asserts the rejected heart claim": ("evaluator-asserts-what-he-rejects",
        lambda g: g.add((K2DI["claim-d3-k2-cardiovascular"], K2D3.assertedBy,
                         K2DI["scott-gavura"]))),
    "a curator inference as a plain triple": ("direct-triple-without-claim",
        lambda g: g.add((K2DI["vitamin-k"], K2D3.activates,
                         K2DI["vitamin-k-dependent-clotting-factors"]))),
    "a hedged comparison as a plain triple": ("hedge-lost",
        lambda g: g.add((K2DI["vitamin-k2"], K2D3.moreReadilyAbsorbedThan, K2DI["vitamin-k1"]))),
    "the synergy quotation shorn of its doubt": ("hedge-lost",
        lambda g: _remove(g, K2DI["claim-low-dk-association-expected"], K2D3.hedge,
                          K2DI["hedge-perhaps"])),
}


@pytest.mark.parametrize("finding", sorted(REGRESSIONS))
def test_review_finding_cannot_come_back(union: Graph, finding: str) -> None:
    check, mutate = REGRESSIONS[finding]
    broken = copy(union)
    mutate(broken)
    assert v.run_checks(broken)[check], f"{check} misses: {finding}"


def test_the_body_of_evidence_cannot_assert(data: Graph, shapes: Graph, ontology: Graph) -> None:
    """The review's finding 1: ``assertedBy`` took the body of evidence and studies."""
    broken = copy(data)
    broken.add((K2DI["claim-d3-k2-bmd"], K2D3.assertedBy, K2DI["the-evidence"]))
    found = [x for x in v.shacl_violations(broken, shapes, ontology)
             if x.focus == str(K2DI["claim-d3-k2-bmd"]) and x.path == str(K2D3.assertedBy)]
    assert found and "agent" in found[0].message


def test_every_check_has_a_breaker() -> None:
    assert set(v.check_queries()) == set(BREAKERS)


def test_checks_pass_on_real_data(union: Graph) -> None:
    assert {name: rows for name, rows in v.run_checks(union).items() if rows} == {}


@pytest.mark.parametrize("name", sorted(BREAKERS))
def test_check_is_documented_and_portable(name: str) -> None:
    text = v.check_queries()[name]
    assert text.startswith("# Check:"), "each check starts with a header comment"
    assert "Must return zero rows" in text
    prepareQuery(text)  # rdflib parses it too, not only Oxigraph


@pytest.mark.parametrize("name", sorted(BREAKERS))
def test_check_fails_on_broken_data(union: Graph, name: str) -> None:
    broken = copy(union)
    BREAKERS[name](broken)
    assert v.run_checks(broken)[name], f"{name} did not catch the breakage"


def test_check_query_failures_reports_only_failing(union: Graph) -> None:
    assert v.check_query_failures(union) == {}
    broken = copy(union)
    BREAKERS["claim-without-quotation"](broken)
    assert set(v.check_query_failures(broken)) == {"claim-without-quotation",
                                                    "quotation-body-mismatch"}


# --- everything ----------------------------------------------------------------------------


def test_validate_all_on_shipped_sources() -> None:
    report = v.validate_all()
    assert report.ok, "\n".join(report.lines())


def test_validate_all_reports_problems(data: Graph) -> None:
    broken = copy(data)
    _remove(broken, K2DI["claim-d3-k2-bmd"], K2D3.hasQuotation)
    report = v.validate_all(broken)
    assert not report.ok
    assert any(x.focus == str(K2DI["claim-d3-k2-bmd"]) for x in report.shacl)
    assert "claim-without-quotation" in report.checks
    assert report.lines()


# --- test data written from the article ----------------------------------------------------


def _rows(name: str) -> list[dict[str, str]]:
    with (DATA_DIR / name).open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f, delimiter="\t"))


def _iri(curie: str) -> URIRef:
    prefix, _, local = curie.partition(":")
    return {"k2di": K2DI, "k2d3": K2D3}[prefix][local]


def test_article_facts_are_quoted_and_covered(data: Graph, article: str) -> None:
    rows = _rows("article_facts.tsv")
    assert len(rows) >= 40
    for row in rows:
        fact = row["quote"]
        assert fact in article, row["fact_id"]
        covered = row["covered_by"].split()
        assert covered, f"{row['fact_id']}: every statement of the article is a claim's quotation"
        for curie in covered:
            node = _iri(curie)
            quotes = [
                str(e) for q in data.objects(node, K2D3.hasQuotation)
                for e in data.objects(data.value(data.value(q, OA.hasTarget), OA.hasSelector),
                                      OA.exact)
            ]
            assert quotes, f"{curie} has no quotation"
            assert any(q in fact or fact in q for q in quotes), (
                f"{row['fact_id']}: no quotation of {curie} overlaps the fact")


def test_expected_classification_names_known_terms(union: Graph) -> None:
    rows = _rows("expected_classification.tsv")
    assert rows
    for row in rows:
        assert row["kind"] in ("type", "subclass")
        subject, inferred = _iri(row["individual_or_class"]), _iri(row["inferred"])
        assert (subject, None, None) in union, row
        assert (inferred, RDF.type, None) in union, row
        assert row["reason"]


def test_expected_classification_lists_only_inferences(union: Graph) -> None:
    for row in _rows("expected_classification.tsv"):
        predicate = RDF.type if row["kind"] == "type" else RDFS.subClassOf
        triple = (_iri(row["individual_or_class"]), predicate, _iri(row["inferred"]))
        assert triple not in union, f"asserted, not inferred: {row}"


def test_validate_reports_a_catalogue_entry_that_breaks_its_shapes(
        monkeypatch: pytest.MonkeyPatch
) -> None:
    """``k2d3 validate`` and the build check the same things: the catalogue included."""
    from server.catalogue import canned

    broken = canned.CannedQuery(name="x", kind="select", text="SELECT * {}",
                                titles={"en": "only English"}, descriptions={"en": "d"})
    monkeypatch.setattr(canned, "catalogue", lambda *a, **k: (broken,))
    errors = v.catalogue_errors()
    assert errors and any("label" in e for e in errors), errors
