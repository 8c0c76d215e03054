"""Run every benchmark in turn: .venv/bin/python -m benchmarks (about 30 minutes)."""

import subprocess
import sys

BENCHMARKS = ["sweep", "viewers", "tablets", "history", "eventos_page", "bitacora", "replicas", "pages", "alerts", "demo_start"]

failed = []
for name in BENCHMARKS:
    print(f"\n== benchmarks.{name} ==", flush=True)
    if subprocess.call([sys.executable, "-m", f"benchmarks.{name}"]) != 0:
        failed.append(name)
print(
    f"\n{len(BENCHMARKS) - len(failed)} de {len(BENCHMARKS)} benchmarks cumplen su objetivo"
    + (f"; fallan: {', '.join(failed)}" if failed else ".")
)
sys.exit(1 if failed else 0)
