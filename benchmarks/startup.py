"""Start-up cost of the commands people run most often from cron and shells (run by hand; prints figures).

    .venv/bin/python benchmarks/startup.py [runs]

For each command: the median wall time of `python -m dlwatch ...` over N runs, and which heavy
modules it imported (httpx, rich, keyring, typer). Target: `--help` and `status --no-refresh` import no httpx.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time

COMMANDS = [
    ["--help"],
    ["status", "--no-refresh"],
    ["status", "--json", "--no-refresh"],
    ["client", "list", "--json"],
    ["config", "show"],
]
PROBE = (
    "import sys, runpy\n"
    "sys.argv = ['dlwatch', *sys.argv[1:]]\n"
    "try:\n    runpy.run_module('dlwatch', run_name='__main__')\nexcept SystemExit:\n    pass\n"
    "heavy = ('httpx', 'rich', 'keyring', 'typer')\n"
    "print('IMPORTED', ','.join(m for m in heavy if m in sys.modules), file=sys.stderr)\n"
)


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 15
    # Bytecode for dlwatch's modules, as an installed copy has (see scale.compile_sources).
    src = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "src", "dlwatch")
    subprocess.run([sys.executable, "-m", "compileall", "-q", src], check=True)
    with tempfile.TemporaryDirectory() as home:
        env = {**os.environ, "DLWATCH_HOME": home}
        print(f"{'command':<28} {'median ms':>9} {'min ms':>7}  heavy imports")
        for args in COMMANDS:
            times = []
            imported = ""
            for _ in range(runs):
                start = time.perf_counter()
                result = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True, env=env)
                times.append((time.perf_counter() - start) * 1000)
                imported = result.stderr.strip().rsplit("IMPORTED", 1)[-1].strip()
            label = " ".join(args)
            print(f"{label:<28} {statistics.median(times):9.1f} {min(times):7.1f}  {imported or '-'}")


if __name__ == "__main__":
    main()
