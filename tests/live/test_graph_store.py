"""Graph Store writes beyond the W3C tests: conditional PUT, POST and DELETE (RFC 9110 13.1.1-2),
and refused writes that leave the store's version, and so every cached answer, as they were."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
from endpoint_fixtures import TOKEN, fresh_store, serve

AUTH = {"Authorization": f"Bearer {TOKEN}"}
NT = {"Content-Type": "application/n-triples", **AUTH}


def triple(value: str) -> str:
    return f'<http://e/s> <http://e/p> "{value}" .\n'


@pytest.fixture(scope="module")
def gsp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with serve(fresh_store(tmp_path_factory.mktemp("conditional"))) as (url, _):
        yield url + "/store"


def values(gsp: str, graph: str) -> set[str]:
    resp = requests.get(gsp, params={"graph": graph}, headers={"Accept": "application/n-triples"})
    return {line.split('"')[1] for line in resp.text.splitlines() if '"' in line}


def version(gsp: str) -> str:
    return requests.get(gsp.rsplit("/store", 1)[0] + "/healthz").json()["version"]


def test_if_match_lets_only_the_holder_of_the_current_tag_write(gsp: str) -> None:
    graph = "http://e/if-match"
    assert requests.put(gsp, params={"graph": graph}, data=triple("one"),
                        headers=NT).status_code == 201
    tag = requests.get(gsp, params={"graph": graph}, headers={"Accept": "text/turtle"}
                       ).headers["ETag"]
    ok = requests.put(gsp, params={"graph": graph}, data=triple("two"),
                      headers={**NT, "If-Match": tag})
    assert ok.status_code == 204, ok.text
    before = version(gsp)
    stale = requests.put(gsp, params={"graph": graph}, data=triple("three"),
                         headers={**NT, "If-Match": tag})
    assert stale.status_code == 412 and "If-Match" in stale.text
    assert values(gsp, graph) == {"two"}
    assert version(gsp) == before, "a refused write bumps nothing"
    fresh = requests.get(gsp, params={"graph": graph}).headers["ETag"]  # another format's tag
    weak = requests.post(gsp, params={"graph": graph}, data=triple("weak"),
                         headers={**NT, "If-Match": "W/" + fresh})
    assert weak.status_code == 412, "If-Match compares strongly"
    assert requests.post(gsp, params={"graph": graph}, data=triple("four"),
                         headers={**NT, "If-Match": fresh}).status_code == 204
    assert values(gsp, graph) == {"two", "four"}


def test_if_match_star_needs_the_graph_and_if_none_match_star_needs_it_absent(gsp: str) -> None:
    graph = "http://e/create-only"
    assert requests.put(gsp, params={"graph": graph}, data=triple("x"),
                        headers={**NT, "If-Match": "*"}).status_code == 412
    assert requests.put(gsp, params={"graph": graph}, data=triple("first"),
                        headers={**NT, "If-None-Match": "*"}).status_code == 201
    again = requests.put(gsp, params={"graph": graph}, data=triple("second"),
                         headers={**NT, "If-None-Match": "*"})
    assert again.status_code == 412 and "exists" in again.text
    assert values(gsp, graph) == {"first"}
    assert requests.put(gsp, params={"graph": graph}, data=triple("third"),
                        headers={**NT, "If-Match": "*"}).status_code == 204


def test_conditional_delete_and_a_missing_graph_leave_the_version(gsp: str) -> None:
    graph = "http://e/delete-me"
    requests.put(gsp, params={"graph": graph}, data=triple("x"), headers=NT).raise_for_status()
    tag = requests.get(gsp, params={"graph": graph}).headers["ETag"]
    requests.post(gsp, params={"graph": graph}, data=triple("y"), headers=NT).raise_for_status()
    before = version(gsp)
    assert requests.delete(gsp, params={"graph": graph},
                           headers={**AUTH, "If-Match": tag}).status_code == 412
    assert requests.delete(gsp, params={"graph": "http://e/never"},
                           headers=AUTH).status_code == 404
    assert version(gsp) == before
    current = requests.get(gsp, params={"graph": graph}).headers["ETag"]
    assert requests.delete(gsp, params={"graph": graph},
                           headers={**AUTH, "If-Match": current}).status_code == 204
    assert requests.get(gsp, params={"graph": graph}).status_code == 404
