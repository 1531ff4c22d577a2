"""Cut a worker process off the network it never needs, so SPARQL cannot make it fetch a URL.

pyoxigraph fetches what ``SERVICE`` and ``LOAD`` name by itself, and has no switch to stop it.
The server reads each request's text first (``server.sparql.text``), but a lexer can be led to
read a text otherwise than pyoxigraph's parser does (review found several ways), so with
federation off (``K2D3_FEDERATION_ALLOW`` empty) each gunicorn worker also installs a seccomp
filter when it starts: creating an IPv4 or IPv6 socket fails with ``EPERM`` in that process.
A worker only answers on the listening socket it inherits and the connections accepted from it,
so it loses nothing; a fetch fails at once and never leaves the machine (no DNS lookup either).
The filter comes from libseccomp (Debian's ``libseccomp2``, present on every Debian system)
through ``pyseccomp``.
"""

from __future__ import annotations

import errno
import logging
import socket

log = logging.getLogger("k2d3.sandbox")


def cut_network() -> bool:
    """Make ``socket(AF_INET | AF_INET6, ...)`` fail with EPERM in this process from now on.

    Call it while the process has one thread: threads started later inherit the filter.
    Returns False (and logs why) where seccomp is not available.
    """
    try:
        import pyseccomp as seccomp

        rules = seccomp.SyscallFilter(defaction=seccomp.ALLOW)
        for family in (socket.AF_INET, socket.AF_INET6):
            rules.add_rule(seccomp.ERRNO(errno.EPERM), "socket",
                           seccomp.Arg(0, seccomp.EQ, family))
        rules.load()
    except (ImportError, OSError, RuntimeError, ValueError) as exc:
        log.error("could not cut this worker off the network (%s); SERVICE and LOAD are "
                  "checked on the request's text only, strictly", exc)
        return False
    return True


def is_network_refusal(exc: BaseException) -> bool:
    """Whether an engine error is a fetch that :func:`cut_network` stopped: the socket refused
    (EPERM), or, for a host name, the lookup that needed one."""
    text = str(exc)
    return ((isinstance(exc, PermissionError) and "os error 1)" in text)
            or "failed to lookup address information" in text)
