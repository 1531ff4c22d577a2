"""A folder the server's processes share files through, that no other local user controls.

The workers share their metrics and their kept answers (pickles, which run code when read)
through folders in the temporary folder. A cleaner of ``/tmp`` may remove one while the server
runs, and the workers make it again; by then another local user may have made a folder, or a
symbolic link to one, under the same (listed) name. :func:`private_folder` makes the folder
if it is missing and refuses one that is not the server user's own or that others may write.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path


class NotPrivate(OSError):
    """The folder exists but another user owns it, others may write in it, or it is no folder."""


def private_folder(path: Path) -> Path:
    """Make ``path`` (mode 0700) unless it exists; raise :class:`NotPrivate` unless it is then
    a folder (a link is followed) owned by this process's user that only its owner may
    write."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    found = os.stat(path)
    if not stat.S_ISDIR(found.st_mode):
        raise NotPrivate(f"{path} is not a folder")
    if found.st_uid != os.geteuid():
        raise NotPrivate(f"{path} belongs to user {found.st_uid}, not to this server's user "
                         f"({os.geteuid()}): its files are not read")
    if found.st_mode & 0o022:
        raise NotPrivate(f"{path} may be written by others (mode {found.st_mode & 0o777:o}): "
                         "its files are not read")
    return path


__all__ = ["NotPrivate", "private_folder"]
