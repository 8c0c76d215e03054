"""The README's deployment section as numbered steps and their bash blocks.

``tests/deploy/fresh_debian/run.sh`` runs these blocks in a fresh Debian; ``tests/deploy/test_readme.py`` keeps them
parseable. Usage: ``python tests/deploy/fresh_debian/readme_steps.py README.md OUT_DIR`` writes
``OUT_DIR/step-N.sh`` (one per step with a block) and ``OUT_DIR/second-process.sh``, and prints
``N<TAB>title`` lines.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

SECTION = "## Deploying to an internal server"
STEP = re.compile(r"^(\d+)\. \*\*(.+?)\*\*", re.M)
BLOCK = re.compile(r"^   ```bash\n(.*?)^   ```$", re.M | re.S)


def deploy_section(readme: str) -> str:
    start = readme.index(SECTION)
    end = readme.index("\n## ", start + len(SECTION))
    return readme[start:end]


def deploy_steps(readme: str) -> list[tuple[int, str, str]]:
    """(number, title, code) for each numbered step, code '' when the step has no bash block."""
    section = deploy_section(readme)
    marks = list(STEP.finditer(section))
    steps = []
    for mark, following in zip(marks, [*marks[1:], None], strict=True):
        body = section[mark.end() : following.start() if following else len(section)]
        code = "\n".join("\n".join(line[3:] for line in block.group(1).splitlines()) for block in BLOCK.finditer(body))
        steps.append((int(mark.group(1)), mark.group(2).rstrip("."), code))
    return steps


def second_process_block(readme: str) -> str:
    """The bash block under "More than one dashboard process" (after the numbered steps)."""
    section = deploy_section(readme)
    start = section.index("**More than one dashboard process.**")
    match = re.compile(r"^```bash\n(.*?)^```$", re.M | re.S).search(section, start)
    return match.group(1).rstrip("\n") if match else ""


def main(readme_path: str, out_dir: str) -> int:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    readme = Path(readme_path).read_text(encoding="utf-8")
    (out / "second-process.sh").write_text(second_process_block(readme) + "\n", encoding="utf-8")
    for number, title, code in deploy_steps(readme):
        if code:
            (out / f"step-{number}.sh").write_text(code + "\n", encoding="utf-8")
        print(f"{number}\t{title}")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
