"""The emulator's own process keeps start-up objects out of the collector's full passes."""

from __future__ import annotations

import gc
import json
import subprocess
import sys
import textwrap

from smartdc.emulator.server import EmulatorServer

#: Runs ``smartdc-emulator``'s main in the main thread of a fresh interpreter; a thread
#: waits for the heap to be frozen, prints what the collector still walks, then stops it.
_SERVE_AND_REPORT = textwrap.dedent(
    """
    import gc, json, os, signal, sys, threading, time
    from smartdc.emulator.server import main

    def report():
        deadline = time.monotonic() + 30
        while gc.get_freeze_count() == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        print(json.dumps({"frozen": gc.get_freeze_count(), "walked": len(gc.get_objects())}),
              file=sys.stderr, flush=True)
        os.kill(os.getpid(), signal.SIGINT)

    threading.Thread(target=report, daemon=True).start()
    sys.exit(main(["--port", "0"]))
    """
)


def test_the_emulator_process_freezes_what_it_made_at_start_up() -> None:
    done = subprocess.run(
        [sys.executable, "-c", _SERVE_AND_REPORT],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "listening on http://127.0.0.1:" in done.stdout
    report = json.loads(done.stderr.strip().splitlines()[-1])
    # Tens of thousands of objects made at start-up; a full pass now walks a small part.
    assert report["frozen"] > 20_000, report
    assert report["walked"] < report["frozen"] / 4, report


def test_freeze_heap_leaves_later_objects_to_the_collector() -> None:
    script = textwrap.dedent(
        """
        import gc, json
        from smartdc.emulator.heap import freeze_heap
        early = [[n] for n in range(5000)]
        frozen = freeze_heap()
        late = [[n] for n in range(3000)]
        print(json.dumps({"frozen": frozen, "walked": len(gc.get_objects())}))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    report = json.loads(done.stdout)
    assert report["frozen"] >= 5000
    assert 3000 <= report["walked"] < report["frozen"]


def test_an_emulator_inside_another_program_leaves_its_collector_alone(
    emulator: EmulatorServer,
) -> None:
    # Started in this test process (the fixture), the emulator froze nothing here.
    assert emulator.url.startswith("http://")
    assert gc.get_freeze_count() == 0
