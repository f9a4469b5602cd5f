"""The distribution: a wheel built from the tree installs into a clean environment with only
the library's and the CLI's dependencies, and the emulator says which extra it needs."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _run(*args: str | Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(a) for a in args], capture_output=True, text=True, timeout=timeout, cwd=ROOT
    )


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    built = _run(
        sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
        "--wheel-dir", out, ".",
    )  # fmt: skip
    assert built.returncode == 0, built.stderr
    (found,) = out.glob("smartdc-*.whl")
    return found


def test_the_wheel_carries_the_package_and_its_entry_points(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        metadata = next(n for n in names if n.endswith(".dist-info/METADATA"))
        text = archive.read(metadata).decode()
        entry = archive.read(next(n for n in names if n.endswith("entry_points.txt"))).decode()
    assert "smartdc/py.typed" in names
    assert "smartdc/emulator/app.py" in names
    requires = [line for line in text.splitlines() if line.startswith("Requires-Dist:")]
    base = [r for r in requires if "extra ==" not in r]
    assert sorted(r.split()[1].split(">")[0] for r in base) == ["bcrypt", "cryptography", "httpx"]
    assert any("uvicorn" in r and 'extra == "emulator"' in r for r in requires)
    assert "smartdc = smartdc.cli:main" in entry
    assert "smartdc-emulator = smartdc.emulator.launch:main" in entry
    assert "[pytest11]" in entry


def test_a_clean_install_has_the_library_and_cli_without_the_server_stack(
    wheel: Path, tmp_path: Path
) -> None:
    venv = tmp_path / "venv"
    assert _run(sys.executable, "-m", "venv", venv).returncode == 0
    python = venv / "bin" / "python"
    installed = _run(python, "-m", "pip", "install", "--quiet", wheel)
    assert installed.returncode == 0, installed.stderr
    check = _run(
        python,
        "-c",
        "import importlib.util, smartdc; smartdc.CloudAPI; smartdc.DataCenter;"
        "print([m for m in ('uvicorn', 'wsproto', 'semantic_version')"
        " if importlib.util.find_spec(m)])",
    )
    assert check.returncode == 0, check.stderr
    assert check.stdout.strip() == "[]"
    cli = _run(venv / "bin" / "smartdc", "--help")
    assert cli.returncode == 0 and "instance" in cli.stdout
    emulator = _run(venv / "bin" / "smartdc-emulator", "--port", "0")
    assert emulator.returncode == 2
    assert "pip install 'smartdc[emulator]'" in emulator.stderr


def test_the_sdist_builds_and_carries_the_sources(tmp_path: Path) -> None:
    import tarfile

    built = _run(sys.executable, "-m", "build", "--sdist", "--outdir", tmp_path, ".")
    assert built.returncode == 0, built.stderr[-2000:]
    (archive,) = tmp_path.glob("smartdc-*.tar.gz")
    with tarfile.open(archive) as sdist:
        names = {name.split("/", 1)[1] for name in sdist.getnames() if "/" in name}
    assert {"pyproject.toml", "README.md", "src/smartdc/__init__.py"} <= names
    assert "src/smartdc/emulator/server.py" in names
