"""Child processes that do not outlive the command that started them.

A worker pool or the dashboard's server is stopped by the command on Ctrl-C or SIGTERM
(:func:`collabsim.cli.main`, :func:`collabsim.experiment.engine.open_executor`). A
command killed outright (SIGKILL) cannot stop anything, so its children look after
themselves: the dashboard's server asks the kernel to end it when its parent dies
(``PR_SET_PDEATHSIG``, Linux), and a pool worker, whose parent is the pool's fork
server rather than the command, watches the command's process and exits when it is gone
(POSIX).
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
import time

#: Seconds between a worker's checks that the command is still alive.
WATCH_SECONDS = 1.0

PR_SET_PDEATHSIG = 1  # from <sys/prctl.h>


def die_with_parent() -> None:
    """In a child process: receive SIGTERM when the parent process dies (Linux only)."""
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    except (OSError, AttributeError):  # no prctl: the command's own stopping still applies
        pass


def exit_with(pid: int) -> None:
    """In a worker: exit at once when process ``pid`` (the command) has gone (POSIX only)."""
    if os.name != "posix":  # os.kill(pid, 0) would end the process on Windows
        return

    def watch() -> None:
        while True:
            time.sleep(WATCH_SECONDS)
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                os._exit(1)
            except PermissionError:  # alive, owned by someone else: cannot be ours
                return

    threading.Thread(target=watch, name="collabsim-parent-watch", daemon=True).start()
