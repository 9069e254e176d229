"""The API as a stranger's code meets it: a client generated from the schema the server serves.

``generated_client`` fetches ``/api/schema/`` from the live server, generates a Python client
from it with openapi-python-client (pinned in requirements-dev.txt) and puts it on ``sys.path``
as ``mentormatch_client``. Generating takes a second or two, so a session generates once per
schema: the client is kept under the session's temporary directory, named by the schema's hash.
"""

import hashlib
import importlib
import json
import re
import subprocess
import sys
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

import pytest

PACKAGE = "mentormatch_client"
# No post-generation hooks: they only format the code (ruff), which importing it does not need.
GENERATOR_CONFIG = {"package_name_override": PACKAGE, "project_name_override": PACKAGE, "post_hooks": []}
# How every generated operation module names its HTTP method and path (templates/endpoint_module.py.jinja).
OPERATION = re.compile(r'"method": "(?P<method>\w+)",\s*"url": "(?P<path>[^"]+)"')


@dataclass
class GeneratedClient:
    schema: dict
    directory: Path  # the package's parent: what goes on sys.path
    output: str  # what the generator printed (its warnings, if any)
    package: ModuleType | None = None
    operations: dict[tuple[str, str], str] = field(default_factory=dict)  # (METHOD, path) -> module name

    def module_names(self) -> list[str]:
        root = self.directory / PACKAGE
        return sorted(
            ".".join(path.relative_to(self.directory).with_suffix("").parts).removesuffix(".__init__")
            for path in root.rglob("*.py")
        )

    def operation(self, method: str, path: str) -> ModuleType:
        """The generated module for ``METHOD /path/{param}/`` as the schema spells the path,
        found by what it sends rather than by its name (operationIds and tags may be renamed)."""
        return importlib.import_module(self.operations[(method.upper(), path)])


def _generate(schema_bytes: bytes, into: Path) -> str:
    into.mkdir(parents=True, exist_ok=True)
    (into / "schema.json").write_bytes(schema_bytes)
    (into / "config.json").write_text(json.dumps(GENERATOR_CONFIG))
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "openapi_python_client",
            "generate",
            "--path",
            str(into / "schema.json"),
            "--output-path",
            str(into / PACKAGE),
            "--meta",
            "none",
            "--config",
            str(into / "config.json"),
            "--overwrite",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"openapi-python-client failed on the served schema:\n{output}"
    (into / "generator-output.txt").write_text(output)
    return output


@pytest.fixture
def generated_client(live_server, tmp_path_factory):
    with urllib.request.urlopen(f"{live_server.url}/api/schema/?format=json", timeout=30) as response:
        schema_bytes = response.read()
    digest = hashlib.sha256(schema_bytes).hexdigest()[:16]
    directory = tmp_path_factory.getbasetemp() / "openapi-client" / digest
    done = directory / "generator-output.txt"
    output = done.read_text() if done.exists() else _generate(schema_bytes, directory)

    client = GeneratedClient(schema=json.loads(schema_bytes), directory=directory, output=output)
    for path in sorted((directory / PACKAGE / "api").rglob("*.py")):
        if match := OPERATION.search(path.read_text()):
            module = ".".join(path.relative_to(directory).with_suffix("").parts)
            client.operations[(match["method"].upper(), match["path"])] = module

    sys.path.insert(0, str(directory))
    try:
        client.package = importlib.import_module(PACKAGE)
        yield client
    finally:
        sys.path.remove(str(directory))
        # Another schema (another session's test, or the schema changed) must not find this one.
        for name in [name for name in sys.modules if name == PACKAGE or name.startswith(f"{PACKAGE}.")]:
            del sys.modules[name]
