"""The W3C Graph Store HTTP Protocol tests (w3c/rdf-tests, sparql/sparql11/graph-store-protocol),
encoded in order against a live server; each test is named after the manifest entry it encodes.
The manifest's ``$GRAPHSTORE$/person/1.ttl`` graphs are direct identification under ``/store/``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import rdflib
import requests
from endpoint_fixtures import TOKEN, fresh_store, serve

AUTH = {"Authorization": f"Bearer {TOKEN}"}
TTL = {"Content-Type": "text/turtle; charset=utf-8", **AUTH}
PERSON = """@prefix foaf: <http://xmlns.com/foaf/0.1/> .
@prefix v: <http://www.w3.org/2006/vcard/ns#> .
<http://$HOST$/$GRAPHSTORE$/person/{n}> a foaf:Person ;
    foaf:businessCard [ a v:VCard ; v:fn "{name}" ] ."""
FOAF = rdflib.Namespace("http://xmlns.com/foaf/0.1/")
VCARD = rdflib.Namespace("http://www.w3.org/2006/vcard/ns#")


@pytest.fixture(scope="module")
def gsp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with serve(fresh_store(tmp_path_factory.mktemp("gsp"))) as (url, _):
        yield url + "/store"


def names(resp: requests.Response) -> set[str]:
    assert resp.status_code == 200, resp.text
    g = rdflib.Graph().parse(data=resp.text, format="turtle")
    return {str(o) for o in g.objects(None, VCARD.fn)}


def test_put_initial_state(gsp: str) -> None:
    resp = requests.put(gsp + "/person/1.ttl", data=PERSON.format(n=1, name="John Doe"),
                        headers=TTL)
    assert resp.status_code == 201


def test_get_of_put_initial_state(gsp: str) -> None:
    resp = requests.get(gsp + "/person/1.ttl", headers={"Accept": "text/turtle"})
    assert names(resp) == {"John Doe"}
    assert resp.headers["Content-Type"].startswith("text/turtle")


def test_put_graph_already_in_store(gsp: str) -> None:
    resp = requests.put(gsp + "/person/1.ttl", data=PERSON.format(n=1, name="Jane Doe"),
                        headers=TTL)
    assert resp.status_code == 204


def test_get_of_put_graph_already_in_store(gsp: str) -> None:
    assert names(requests.get(gsp + "/person/1.ttl", headers={"Accept": "text/turtle"})) == {
        "Jane Doe"}


def test_put_default_graph(gsp: str) -> None:
    resp = requests.put(gsp + "?default", data=PERSON.format(n=0, name="Alice"), headers=TTL)
    assert resp.status_code in (201, 204)


def test_get_of_put_default_graph(gsp: str) -> None:
    assert names(requests.get(gsp + "?default", headers={"Accept": "text/turtle"})) == {"Alice"}


def test_put_mismatched_payload(gsp: str) -> None:
    resp = requests.put(gsp + "/person/1.ttl", data="<not> turtle at all {", headers=TTL)
    assert resp.status_code == 400


def test_put_empty_graph(gsp: str) -> None:
    resp = requests.put(gsp + "/person/2.ttl", data="", headers=TTL)
    assert resp.status_code in (200, 201, 204)


def test_get_of_put_empty_graph(gsp: str) -> None:
    assert names(requests.get(gsp + "/person/2.ttl", headers={"Accept": "text/turtle"})) == set()


def test_delete_existing_graph(gsp: str) -> None:
    assert requests.delete(gsp + "/person/2.ttl", headers=AUTH).status_code in (200, 204)


def test_get_of_delete_existing_graph(gsp: str) -> None:
    assert requests.get(gsp + "/person/2.ttl").status_code == 404


def test_delete_non_existent_graph(gsp: str) -> None:
    assert requests.delete(gsp + "/person/2.ttl", headers=AUTH).status_code == 404


def test_post_existing_graph(gsp: str) -> None:
    resp = requests.post(gsp + "/person/1.ttl", data=PERSON.format(n=1, name="J. Doe"),
                         headers=TTL)
    assert resp.status_code in (200, 204)


def test_get_of_post_existing_graph(gsp: str) -> None:
    assert names(requests.get(gsp + "/person/1.ttl", headers={"Accept": "text/turtle"})) == {
        "Jane Doe", "J. Doe"}


def test_post_multipart_form_data(gsp: str) -> None:
    files = {"a": ("a.ttl", PERSON.format(n=1, name="Form A"), "text/turtle"),
             "b": ("b.nt", '<http://e/s> <http://www.w3.org/2006/vcard/ns#fn> "Form B" .\n',
                   "application/octet-stream")}
    resp = requests.post(gsp + "/person/1.ttl", files=files, headers=AUTH)
    assert resp.status_code in (200, 204), resp.text


def test_get_of_post_multipart_form_data(gsp: str) -> None:
    assert {"Form A", "Form B"} <= names(requests.get(gsp + "/person/1.ttl",
                                                      headers={"Accept": "text/turtle"}))


def test_post_create_new_graph(gsp: str) -> None:
    resp = requests.post(gsp, data=PERSON.format(n=3, name="New Person"), headers=TTL)
    assert resp.status_code == 201
    location = resp.headers["Location"]
    assert location.startswith(gsp + "/")
    assert names(requests.get(location, headers={"Accept": "text/turtle"})) == {"New Person"}


def test_get_of_post_create_new_graph_by_indirect_identification(gsp: str) -> None:
    created = requests.post(gsp, data=PERSON.format(n=4, name="Indirect"), headers=TTL)
    location = created.headers["Location"]
    resp = requests.get(gsp, params={"graph": location}, headers={"Accept": "text/turtle"})
    assert names(resp) == {"Indirect"}


def test_head_on_an_existing_graph(gsp: str) -> None:
    resp = requests.head(gsp + "/person/1.ttl", headers={"Accept": "text/turtle"})
    assert resp.status_code == 200 and resp.headers["Content-Type"].startswith("text/turtle")
    assert resp.text == ""


def test_head_on_a_non_existing_graph(gsp: str) -> None:
    assert requests.head(gsp + "/person/4.ttl").status_code == 404


# Beyond the manifest: negotiation, auth, 415, both ?graph and ?default, ETag.
@pytest.mark.parametrize(("accept", "fmt"), [("application/n-triples", "nt"),
                                             ("application/rdf+xml", "xml")])
def test_get_negotiates(gsp: str, accept: str, fmt: str) -> None:
    resp = requests.get(gsp + "/person/1.ttl", headers={"Accept": accept})
    g = rdflib.Graph().parse(data=resp.text, format=fmt)
    assert (None, rdflib.RDF.type, FOAF.Person) in g


@pytest.mark.parametrize(("method", "url", "kwargs", "status"), [
    ("PUT", "/person/9.ttl", {"data": "", "headers": {"Content-Type": "text/turtle"}}, 401),
    ("DELETE", "/person/1.ttl", {"headers": {"Authorization": "Bearer nope"}}, 403),
    ("PUT", "/person/9.ttl", {"data": "x", "headers": {"Content-Type": "image/png", **AUTH}},
     415),
    ("GET", "?default&graph=http://e/g", {}, 400),
    ("GET", "", {"headers": {"Accept": "text/turtle"}}, 406),
    ("GET", "/person/1.ttl", {"headers": {"Accept": "image/png"}}, 406),
])
def test_graph_store_errors(gsp: str, method: str, url: str, kwargs: dict, status: int) -> None:
    resp = requests.request(method, gsp + url, **kwargs)
    assert resp.status_code == status, resp.text
    assert resp.headers["Access-Control-Allow-Origin"] == "*"


def test_etag_304(gsp: str) -> None:
    first = requests.get(gsp + "/person/1.ttl")
    again = requests.get(gsp + "/person/1.ttl", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304


def test_every_worker_gives_the_same_etag(gsp: str) -> None:
    """A fresh connection each time lands on either worker; the tag must not depend on which."""
    tags = {requests.get(gsp + "/person/1.ttl", headers={"Connection": "close"}).headers["ETag"]
            for _ in range(24)}
    assert len(tags) == 1, tags


def test_written_graph_is_queryable(gsp: str) -> None:
    base = gsp.rsplit("/store", 1)[0]
    resp = requests.get(base + "/sparql", params={
        "query": f"ASK {{ GRAPH <{gsp}/person/1.ttl> {{ ?s a <{FOAF.Person}> }} }}"},
        headers={"Accept": "application/sparql-results+json"})
    assert resp.json()["boolean"] is True


@pytest.mark.parametrize("accept", ["application/trig", "application/n-quads"])
def test_get_on_the_store_returns_every_graph(gsp: str, accept: str) -> None:
    """Like Fuseki: the store itself, with no graph named, is the whole dataset."""
    from pyoxigraph import NamedNode, RdfFormat, parse

    resp = requests.get(gsp, headers={"Accept": accept})
    assert resp.status_code == 200
    assert resp.headers["Content-Type"].startswith(accept)
    quads = list(parse(resp.content, format=RdfFormat.from_media_type(accept)))
    person = NamedNode(gsp + "/person/1.ttl")
    in_dump = {(q.subject, q.predicate, q.object) for q in quads if q.graph_name == person}
    one = requests.get(gsp + "/person/1.ttl", headers={"Accept": "application/n-triples"})
    alone = {(t.subject, t.predicate, t.object)
             for t in parse(one.content, format=RdfFormat.N_TRIPLES)}
    assert in_dump == alone and alone
