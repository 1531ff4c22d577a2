"""server/build/reason.py: HermiT's consistency check and classification, and the committed file."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
import rdflib
from rdflib import OWL, RDF, RDFS, URIRef

from server.build import reason, sources

pytestmark = pytest.mark.reasoner
K2D3 = "https://w3id.org/k2d3/ontology#"
K2DI = "https://w3id.org/k2d3/id/"
TESTS = Path(__file__).resolve().parents[1]


def expand(curie: str) -> URIRef:
    prefix, _, local = curie.partition(":")
    return URIRef({"k2d3": K2D3, "k2di": K2DI}.get(prefix, prefix + ":") + local)


@pytest.fixture(scope="module")
def asserted() -> rdflib.Graph:
    src = sources.Sources.load()
    return src.ontology + src.data


@pytest.fixture(scope="module")
def inferred(asserted: rdflib.Graph) -> rdflib.Graph:
    return reason.infer(asserted)


def expected_rows() -> list[dict[str, str]]:
    with open(TESTS / "data" / "expected_classification.tsv", encoding="utf-8") as handle:
        return list(csv.DictReader((line for line in handle if not line.startswith("#")),
                                   delimiter="\t"))


@pytest.mark.parametrize("row", expected_rows(), ids=lambda r: f"{r['individual_or_class']}")
def test_hermit_infers_the_designed_memberships(row: dict[str, str], asserted: rdflib.Graph,
                                                inferred: rdflib.Graph) -> None:
    subject, target = expand(row["individual_or_class"]), expand(row["inferred"])
    predicate = RDF.type if row["kind"] == "type" else RDFS.subClassOf
    assert (subject, predicate, target) not in asserted, "expected an inference, not an assertion"
    assert (subject, predicate, target) in inferred, row["reason"]


def test_committed_inferences_are_current(inferred: rdflib.Graph) -> None:
    committed = sources.inferred_file().read_text(encoding="utf-8")
    assert committed.startswith(reason.HEADER), "the generated-file header is missing"
    assert committed == reason.to_ntriples(inferred), "run `k2d3 reason` and commit the file"


def test_inferences_add_nothing_already_asserted(asserted: rdflib.Graph,
                                                 inferred: rdflib.Graph) -> None:
    assert len(inferred) > 0
    assert not [t for t in inferred if t in asserted]
    assert (None, RDF.type, OWL.Thing) not in inferred


def test_disjointness_is_enforced(asserted: rdflib.Graph) -> None:
    pairs = list(asserted.subject_objects(OWL.disjointWith))
    for members in asserted.objects(None, OWL.members):
        items = list(rdflib.collection.Collection(asserted, members))
        pairs += [(items[0], items[1])] if len(items) > 1 else []
    assert pairs, "the ontology declares disjoint classes"
    left, right = next((a, b) for a, b in pairs if isinstance(a, URIRef) and isinstance(b, URIRef))
    broken = asserted + rdflib.Graph()
    culprit = URIRef(K2DI + "both-and-neither")
    broken.add((culprit, RDF.type, OWL.NamedIndividual))
    broken.add((culprit, RDF.type, left))
    broken.add((culprit, RDF.type, right))
    with pytest.raises(reason.InconsistentOntology):
        reason.infer(broken)


def test_a_curator_inference_is_never_endorsed_by_the_article(inferred: rdflib.Graph) -> None:
    """The review's finding H1: an inference of the curators read as a claim the article accepts."""
    claim = rdflib.URIRef("https://w3id.org/k2d3/id/claim-vitamin-k-activates-clotting-factors")
    endorsed = rdflib.URIRef("https://w3id.org/k2d3/ontology#EndorsedClaim")
    assert (claim, rdflib.RDF.type, endorsed) not in inferred
