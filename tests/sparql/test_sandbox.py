"""server/sparql/sandbox.py: a process cut off the network cannot make an IP socket, nor can
pyoxigraph in it fetch a SERVICE; local sockets still work. Run in a forked child each time."""

from __future__ import annotations

import multiprocessing
import socket
import threading

from pyoxigraph import Literal, NamedNode, Quad, Store

from server.sparql.sandbox import cut_network, is_network_refusal


def _in_a_cut_child(port: int, report) -> None:  # type: ignore[no-untyped-def]
    seen = {"cut": cut_network()}
    for family in (socket.AF_INET, socket.AF_INET6):
        try:
            socket.socket(family).close()
            seen[f"socket {family.name}"] = "made"
        except PermissionError:
            seen[f"socket {family.name}"] = "refused"
    left, right = socket.socketpair()
    left.close()
    right.close()
    seen["socketpair"] = "made"
    store = Store()
    store.add(Quad(NamedNode("http://e/s"), NamedNode("http://e/p"), Literal("o")))

    def fetch() -> None:  # on a thread started after the cut, as a request thread is
        try:
            list(store.query(f"SELECT * {{ ?s ?p ?o SERVICE <http://127.0.0.1:{port}/> "
                             "{ ?s ?p ?o } }"))
            seen["service"] = "ran"
        except OSError as exc:
            seen["service"] = "refused" if is_network_refusal(exc) else repr(exc)

    thread = threading.Thread(target=fetch)
    thread.start()
    thread.join()
    report.send(seen)


def test_a_cut_process_makes_no_ip_socket_and_fetches_nothing() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(5)
        listener.settimeout(0.5)
        ours, theirs = multiprocessing.get_context("fork").Pipe()
        child = multiprocessing.get_context("fork").Process(
            target=_in_a_cut_child, args=(listener.getsockname()[1], theirs))
        child.start()
        seen = ours.recv()
        child.join(30)
        assert seen == {"cut": True, "socket AF_INET": "refused", "socket AF_INET6": "refused",
                        "socketpair": "made", "service": "refused"}
        try:
            listener.accept()[0].close()
            contacted = True
        except TimeoutError:
            contacted = False
        assert not contacted
    # this process (the parent) was never cut
    socket.socket(socket.AF_INET).close()
