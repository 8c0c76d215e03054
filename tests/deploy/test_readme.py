"""The README's two commands stay true: CI runs exactly the documented test command."""

import os
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


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
    """``tests/deploy/fresh_debian/run.sh`` runs these blocks on a fresh Debian; keep them parseable and in order."""
    import subprocess

    from tests.deploy.fresh_debian.readme_steps import deploy_steps, second_process_block

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


def step_code(number: int) -> str:
    from tests.deploy.fresh_debian.readme_steps import deploy_steps

    return next(code for n, _, code in deploy_steps((ROOT / "README.md").read_text()) if n == number)


def run_traced(script: str, tmp_path: Path, stdin: str = "") -> str:
    """Run ``script`` in bash under strace; return every exec'd command line and environment, as strace
    prints them: what ``ps`` or /proc/PID/cmdline would have shown another user on the server."""
    import shutil
    import subprocess

    if shutil.which("strace") is None:
        pytest.skip("strace not installed: cannot see the command lines a README block runs")
    trace = tmp_path / "execve.trace"
    command = ["strace", "-f", "-qq", "-v", "-s", "65536", "-e", "trace=execve", "-o", str(trace)]
    # python3 with bcrypt, as step 1 installs it on the server: here, this virtualenv's.
    path = f"{Path(sys.executable).parent}:{os.environ['PATH']}"
    subprocess.run(
        [*command, "bash", "-euo", "pipefail", "-c", script],
        input=stdin,
        text=True,
        check=True,
        cwd=ROOT,
        env=os.environ | {"PATH": path},
    )
    return trace.read_text()


@pytest.mark.parametrize("mode", ["oidc", "proxy"])
def test_step_3_writes_fresh_secrets_on_no_command_line(tmp_path, mode):
    """The cookie secrets and the proxy secret (the same in secrets.toml and in nginx's file)."""
    import tomllib

    from cucu.access import cookie_secret_problem, load_access, proxy_secret_problem

    code = step_code(3)
    block = code[code.index('sed -i "s|contingencia.example.bo|$HOST|"') : code.index("unset PROXY_SECRET")]
    env, secrets_toml, nginx_secret = tmp_path / "contingencia.env", tmp_path / "secrets.toml", tmp_path / "secret.conf"
    env.write_text((ROOT / "deploy" / "contingencia.env.example").read_text())
    secrets_toml.write_text((ROOT / "deploy" / "secrets" / f"{mode}.secrets.toml.example").read_text())
    for old, new in {
        "/etc/contingencia/contingencia.env": env,
        "/etc/nginx/contingencia-secret.conf": nginx_secret,
        " .streamlit/secrets.toml": f" {secrets_toml}",
    }.items():
        assert old in block
        block = block.replace(old, str(new))
    trace = run_traced("HOST=contingencia.empresa.bo\n" + block, tmp_path)
    data = tomllib.loads(secrets_toml.read_text())
    fresh = [re.search(r"^STREAMLIT_SERVER_COOKIE_SECRET=([0-9a-f]{64})$", env.read_text(), re.M)]
    fresh.append(re.search(r'^    default "([0-9a-f]{64})";$', nginx_secret.read_text(), re.M))
    assert all(fresh), (env.read_text(), nginx_secret.read_text())
    secrets = [match.group(1) for match in fresh if match]
    if mode == "oidc":
        assert cookie_secret_problem(data["auth"]["cookie_secret"]) is None
        assert data["auth"]["redirect_uri"] == "https://contingencia.empresa.bo/contingencia/oauth2callback"
        secrets.append(data["auth"]["cookie_secret"])
    else:
        proxy_secret = load_access(data["access"], {}).proxy_secret
        assert proxy_secret_problem(proxy_secret) is None and proxy_secret == secrets[1]  # nginx sends what the app expects
    assert len(set(secrets)) == len(secrets)  # each one fresh
    assert nginx_secret.stat().st_mode & 0o777 == 0o600  # nginx's master reads it as root; nobody else
    assert "execve" in trace and "sed" in trace
    assert [secret for secret in secrets if secret in trace] == []


def test_step_7_adds_a_password_0640_root_www_data_never_on_a_command_line(tmp_path):
    import grp
    import os
    import stat

    import bcrypt

    try:
        www_data = grp.getgrnam("www-data").gr_gid
    except KeyError:
        pytest.skip("no www-data group on this machine (Debian's nginx runs its workers as www-data)")
    if os.geteuid() != 0:
        pytest.skip("the block runs as root (chown root:www-data)")
    htpasswd = tmp_path / "contingencia.htpasswd"
    block = step_code(7).replace("/etc/nginx/contingencia.htpasswd", str(htpasswd))
    assert "/etc/nginx" not in block
    traces = [run_traced(block, tmp_path, stdin=f"{user}\n{password}\n") for user, password in PEOPLE]
    info = htpasswd.stat()
    assert (stat.S_IMODE(info.st_mode), info.st_uid, info.st_gid) == (0o640, 0, www_data)
    lines = htpasswd.read_text().splitlines()
    assert [line.split(":", 1)[0] for line in lines] == [user for user, _ in PEOPLE]  # added, never truncated
    for line, (_, password) in zip(lines, PEOPLE, strict=True):
        assert bcrypt.checkpw(password.encode(), line.split(":", 1)[1].encode())
        assert not bcrypt.checkpw((password + "x").encode(), line.split(":", 1)[1].encode())
    for trace, (user, password) in zip(traces, PEOPLE, strict=True):
        assert user in trace  # the trace does see the command lines (the user name is on one)
        assert password not in trace


PEOPLE = [("ana", "Clave de Ana 2026!"), ("beto", "otra-clave-de-beto")]
