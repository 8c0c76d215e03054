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
    # The demo makes everyone a supervisor: it listens on this machine only.
    assert "--server.address 127.0.0.1" in demo
    assert "pytest" in tests and "install-debian-packages.sh" in tests


def test_ci_runs_the_readme_test_command_verbatim():
    _, tests = readme_commands()
    ci_lines = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()]
    assert tests.strip() in ci_lines


def test_ci_runs_the_readme_lint_and_type_checks_before_the_tests():
    checks = re.search(r"`(\.venv/bin/ruff check[^`]*)`", (ROOT / "README.md").read_text())
    assert checks and "mypy" in checks.group(1)
    ci_lines = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()]
    _, tests = readme_commands()
    lint_line = next(i for i, line in enumerate(ci_lines) if line.endswith(checks.group(1)))
    assert lint_line < ci_lines.index(tests.strip())


def test_deployment_steps_are_runnable_blocks():
    """``tests/fresh_debian/run.sh`` runs these blocks on a fresh Debian; keep them parseable and in order."""
    import subprocess

    from tests.fresh_debian.readme_steps import deploy_steps, second_process_block

    steps = deploy_steps((ROOT / "README.md").read_text())
    assert [n for n, _, _ in steps] == list(range(10))
    names = {n: code for n, _, code in steps}
    assert re.search(r"^HOST=", names[0], re.M) and re.search(r"^REPO=", names[0], re.M)
    for number in (1, 2, 3, 4, 5, 6, 8, 9):
        assert names[number], f"step {number} lost its bash block"
        subprocess.run(["bash", "-n"], input=names[number], text=True, check=True)
    assert "contingencia-colector" in names[4] and "_stcore/health" in names[4]
    second = second_process_block((ROOT / "README.md").read_text())
    assert "contingencia@8502" in second
    subprocess.run(["bash", "-n"], input=second, text=True, check=True)
    # Every file the steps copy out of the repository exists.
    for path in re.findall(r"\bdeploy/[\w./@-]+", "\n".join(names.values())):
        assert (ROOT / path).exists(), path
