"""Run a command in a pseudo-terminal, as a person at a terminal would, for the scenarios.

ptyrun.py OUT STEPS_JSON CMD...: STEPS_JSON is a list of [expect, send] pairs: wait (at most
30 s each, so a stuck command fails instead of hanging) for `expect` on the screen, then type
`send` and Enter. Everything the screen showed goes to OUT; the exit status is the command's.
"""
import json
import os
import pty
import select
import sys
import time

STEP_TIMEOUT_S = 30


def main():
    out_path, steps = sys.argv[1], json.loads(sys.argv[2])
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp(sys.argv[3], sys.argv[3:])
    screen = b""

    def read_some(deadline):
        nonlocal screen
        r, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
        if not r:
            return False
        try:
            data = os.read(fd, 4096)
        except OSError:
            return None
        if not data:
            return None
        screen += data
        return True

    status = 0
    for expect, send in steps:
        deadline = time.monotonic() + STEP_TIMEOUT_S
        while expect.encode() not in screen:
            got = read_some(deadline)
            if got is None or (got is False and time.monotonic() >= deadline):
                open(out_path, "wb").write(screen)
                print("ptyrun: never saw %r" % expect, file=sys.stderr)
                os.kill(pid, 9)
                os.waitpid(pid, 0)
                sys.exit(125)
        os.write(fd, send.encode() + b"\n")
    deadline = time.monotonic() + STEP_TIMEOUT_S
    while read_some(deadline) is not None and time.monotonic() < deadline:
        pass
    _, st = os.waitpid(pid, 0)
    status = os.waitstatus_to_exitcode(st)
    open(out_path, "wb").write(screen)
    sys.exit(status)


main()
