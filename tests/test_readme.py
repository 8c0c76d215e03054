"""The README's two commands stay true: CI runs exactly the documented test command."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def readme_commands() -> list[str]:
    blocks = re.findall(r"```bash\n(.*?)\n```", (ROOT / "README.md").read_text(), flags=re.S)
    return blocks[:2]


def test_readme_opens_with_demo_and_test_commands():
    demo, tests = readme_commands()
    assert "streamlit run app.py" in demo and "requirements.txt" in demo
    assert "pytest" in tests and "install-debian-packages.sh" in tests


def test_ci_runs_the_readme_test_command_verbatim():
    _, tests = readme_commands()
    ci_lines = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()]
    assert tests.strip() in ci_lines
