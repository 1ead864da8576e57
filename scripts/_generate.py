"""Regenerate generated/imagegen_api from openapi/images.yaml (run through scripts/generate).

The contract is strict, because the reference server and the conformance runner use it as the
oracle. The generated client must be lenient, because real servers answer with values and
shapes the contract does not list. So the generator does not read images.yaml itself but a
lenient copy derived from it here (see `lenient_copy`). The strict contract is shipped beside
the generated code as `imagegen_api/openapi.json`, for the server, the client's checks and the
conformance runner.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
CONTRACT = ROOT / "openapi" / "images.yaml"
MODELS_SCHEMA = ROOT / "openapi" / "models.schema.yaml"
CONFIG = ROOT / "openapi" / "generator.yaml"
TEMPLATES = ROOT / "openapi" / "templates"
TARGET = ROOT / "generated" / "imagegen_api"
PARAMS = ROOT / "overlay" / "imagegen" / "params.py"
SHIPPED_CONTRACT = "openapi.json"
SHIPPED_MODELS_SCHEMA = "models.schema.json"
SCHEMA_REF = "#/components/schemas/"
EXTENSION_PREFIX = "x-imagegen-"

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _params import render_params  # noqa: E402  (beside this script)

Json = Any


# ---- the lenient copy ------------------------------------------------------------------------


def lenient_copy(contract: Json) -> Json:
    """Return the generator's input: the contract with what breaks clients taken out.

    - Every string enum becomes open: `anyOf: [<the enum>, string]`, so a caller can send a
      value the contract does not list yet and a response with a new value still parses.
    - Response schemas lose `required` and every property may be null, so an answer without
      `created` or with `"usage": null` parses.
    - Object-level `anyOf`/`oneOf` made only of `required` lists (one of image/image[], one of
      b64_json/url, ...) are dropped: they are rules for servers, and the generator cannot
      express them.
    - Properties marked `x-imagegen-server-only` are dropped: servers must accept them, the
      client does not send them (the single `image` part of edits, beside `image[]`).
    - `text/event-stream` answers are dropped: the generator cannot stream (the overlay does,
      parsing each event with the generated event models).
    - Our `x-imagegen-*` annotations are dropped once used: the generator has no use for them.
    """
    doc = copy.deepcopy(contract)
    doc.pop("x-imagegen-models", None)
    for response in _all_responses(doc):
        response.get("content", {}).pop("text/event-stream", None)

    schemas: dict[str, Json] = doc["components"]["schemas"]
    request_names = _reachable(schemas, _request_body_schemas(doc))
    enum_names = {
        name for name, schema in schemas.items() if schema.get("type") == "string" and "enum" in schema
    }
    for name, schema in list(schemas.items()):
        if name not in enum_names:
            schemas[name] = schema = _open_enums(schema, enum_names)
        _describe_from_references(schema, schemas)
        _drop_server_only_properties(schema)
        _drop_required_only_alternatives(schema)
        if name not in request_names and schema.get("type") == "object":
            _relax_response_object(schema)
    return _without_extensions(doc)


def _without_extensions(node: Json) -> Json:
    if isinstance(node, dict):
        return {k: _without_extensions(v) for k, v in node.items() if not str(k).startswith(EXTENSION_PREFIX)}
    if isinstance(node, list):
        return [_without_extensions(item) for item in node]
    return node


def _all_responses(doc: Json) -> Iterator[Json]:
    yield from doc.get("components", {}).get("responses", {}).values()
    for path_item in doc["paths"].values():
        for operation in path_item.values():
            if isinstance(operation, dict):
                for response in operation.get("responses", {}).values():
                    if "$ref" not in response:
                        yield response


def _request_body_schemas(doc: Json) -> list[Json]:
    found = []
    for path_item in doc["paths"].values():
        for operation in path_item.values():
            if isinstance(operation, dict) and "requestBody" in operation:
                for media in operation["requestBody"]["content"].values():
                    found.append(media["schema"])
    return found


def _reachable(schemas: dict[str, Json], roots: list[Json]) -> set[str]:
    """Names of the component schemas that `roots` reference, directly or not."""
    seen: set[str] = set()
    stack = list(roots)
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            ref = node.get("$ref", "")
            if ref.startswith(SCHEMA_REF):
                name = ref.removeprefix(SCHEMA_REF)
                if name not in seen:
                    seen.add(name)
                    stack.append(schemas[name])
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return seen


def _describe_from_references(schema: Json, schemas: dict[str, Json]) -> None:
    """Give each property the description of the schema it references, if it has none.

    The generator documents an attribute only from the property's own description, and the
    contract keeps shared descriptions on the referenced schemas (ImageQuality, ...).
    """
    for prop in schema.get("properties", {}).values():
        if "description" in prop or "$ref" in prop:  # a direct $ref keeps its own description
            continue
        for candidate in [*prop.get("anyOf", []), *prop.get("oneOf", [])]:
            target = schemas.get(candidate.get("$ref", "").removeprefix(SCHEMA_REF), {})
            if target.get("type") != "object" and "description" in target:
                prop["description"] = target["description"]
                break


def _drop_server_only_properties(schema: Json) -> None:
    properties = schema.get("properties", {})
    for name in [name for name, prop in properties.items() if prop.get("x-imagegen-server-only")]:
        del properties[name]
        for keyword in ("anyOf", "oneOf"):
            schema[keyword] = [alt for alt in schema.get(keyword, []) if alt.get("required") != [name]]
            if not schema[keyword]:
                del schema[keyword]
        if name in schema.get("required", []):
            schema["required"].remove(name)


def _drop_required_only_alternatives(schema: Json) -> None:
    for keyword in ("anyOf", "oneOf"):
        alternatives = schema.get(keyword)
        if alternatives and all(set(alt) == {"required"} for alt in alternatives):
            del schema[keyword]


def _relax_response_object(schema: Json) -> None:
    schema.pop("required", None)
    for name, prop in list(schema.get("properties", {}).items()):
        if "const" in prop or _allows_null(prop):
            continue
        description = prop.pop("description", None) if "$ref" not in prop else None
        relaxed: Json = {"anyOf": [prop, {"type": "null"}]}
        if description:
            relaxed["description"] = description
        schema["properties"][name] = relaxed


def _allows_null(schema: Json) -> bool:
    kind = schema.get("type")
    if kind == "null" or (isinstance(kind, list) and "null" in kind):
        return True
    return any(_allows_null(alt) for alt in schema.get("anyOf", []) + schema.get("oneOf", []))


def _open_enums(node: Json, enum_names: set[str]) -> Json:
    """Widen every use of a string enum in `node` to also take any string."""
    if isinstance(node, list):
        return [_open_enums(item, enum_names) for item in node]
    if not isinstance(node, dict):
        return node
    if _is_string_enum(node, enum_names):
        return {"anyOf": [node, {"type": "string"}]}
    result = {}
    for key, value in node.items():
        if key in ("anyOf", "oneOf") and isinstance(value, list):
            widened = []
            for alt in value:
                widened.append(_open_enums(alt, enum_names) if not _is_string_enum(alt, enum_names) else alt)
                if _is_string_enum(alt, enum_names) and {"type": "string"} not in value:
                    widened.append({"type": "string"})
            result[key] = widened
        else:
            result[key] = _open_enums(value, enum_names)
    return result


def _is_string_enum(node: Json, enum_names: set[str]) -> bool:
    if not isinstance(node, dict):
        return False
    ref = node.get("$ref", "")
    if ref.startswith(SCHEMA_REF) and ref.removeprefix(SCHEMA_REF) in enum_names:
        return True
    return node.get("type") == "string" and "enum" in node


# ---- generation ------------------------------------------------------------------------------


def read_yaml(path: Path) -> Json:
    """A YAML file of the repository, or SystemExit naming it when it is not valid YAML."""
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise SystemExit(f"scripts/generate: {path.relative_to(ROOT)} is not valid YAML:\n{error}") from None


def generate_into(workdir: Path, lenient_out: Path | None = None) -> Path:
    """Generate the package under `workdir` (and params.py beside it) and return its directory."""
    contract = read_yaml(CONTRACT)
    generator_input = workdir / "images.lenient.json"
    lenient_text = json.dumps(lenient_copy(contract), indent=2, ensure_ascii=False) + "\n"
    generator_input.write_text(lenient_text, encoding="utf-8")
    if lenient_out is not None:
        lenient_out.write_text(lenient_text, encoding="utf-8")

    package = workdir / "imagegen_api"
    generator = Path(sys.executable).parent / "openapi-python-client"
    if not generator.exists():
        raise SystemExit(f"scripts/generate: {generator} is missing; run scripts/install first")
    command = [
        str(generator),
        "generate",
        "--path", str(generator_input),
        "--config", str(CONFIG),
        "--custom-template-path", str(TEMPLATES),
        "--meta", "none",
        "--output-path", str(package),
        "--overwrite",
        "--fail-on-warning",
    ]  # fmt: skip
    # The pinned generator and the ruff its post hooks run live beside this interpreter.
    tools = str(Path(sys.executable).parent)
    env = {**os.environ, "PATH": os.pathsep.join([tools, os.environ.get("PATH", "")])}
    done = subprocess.run(command, cwd=workdir, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.stderr.write(done.stdout + done.stderr)
        raise SystemExit(f"scripts/generate: openapi-python-client failed (exit {done.returncode})")

    # Without project metadata (--meta none) the generator writes no PEP 561 marker.
    (package / "py.typed").write_text("# Marker file for PEP 561\n", encoding="utf-8")
    shipped = json.dumps(contract, indent=1, ensure_ascii=False) + "\n"
    (package / SHIPPED_CONTRACT).write_text(shipped, encoding="utf-8")
    models_schema = json.dumps(read_yaml(MODELS_SCHEMA), indent=1, ensure_ascii=False) + "\n"
    (package / SHIPPED_MODELS_SCHEMA).write_text(models_schema, encoding="utf-8")
    (workdir / PARAMS.name).write_text(_formatted(render_params(contract), env), encoding="utf-8")
    return package


def _formatted(source: str, env: dict[str, str]) -> str:
    """`source` as ruff formats it (as the tests lint it)."""
    # --isolated: the same bytes whatever configuration surrounds the checkout; these settings
    # are pyproject.toml's, so `ruff format --check` agrees.
    command = ["ruff", "format", "--no-cache", "--isolated", "--line-length", "110"]
    command += ["--target-version", "py311", "--stdin-filename", str(PARAMS), "-"]
    done = subprocess.run(
        command, input=source, cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        sys.stderr.write(done.stderr)
        raise SystemExit("scripts/generate: ruff could not format params.py")
    return done.stdout


CHECK_LABELS = ("missing from generated/", "not produced by the contract", "differs")
WRITE_LABELS = ("new", "removed", "changed")
"""How a file that only `expected` has, one that only `actual` has, and one that differs are
named: by --check (generated/ is behind the contract), and after a generation (what it did)."""


def differences(expected: Path, actual: Path, labels: tuple[str, str, str] = CHECK_LABELS) -> list[str]:
    """Paths (relative to the package) that differ, byte for byte, between two trees."""

    def files(top: Path) -> dict[str, Path]:
        return {
            path.relative_to(top).as_posix(): path
            for path in top.rglob("*")
            if path.is_file() and "__pycache__" not in path.parts
        }

    want, have = files(expected), files(actual)
    only_expected, only_actual, differing = labels
    found = [f"{name} ({only_expected})" for name in want.keys() - have.keys()]
    found += [f"{name} ({only_actual})" for name in have.keys() - want.keys()]
    found += [
        f"{name} ({differing})"
        for name in want.keys() & have.keys()
        if want[name].read_bytes() != have[name].read_bytes()
    ]
    return sorted(found)


def consistent(document: Json) -> bool:
    """Print the contract's consistency problems (imagegen contract check); False on an error."""
    from imagegen.contract import Contract, ContractError
    from imagegen.contract.lint import lint

    try:
        problems = lint(Contract(document, source=str(CONTRACT.relative_to(ROOT))))
    except ContractError as error:
        print(f"scripts/generate: {error}", file=sys.stderr)
        return False
    for problem in problems:
        print(f"scripts/generate: {problem}", file=sys.stderr)
    return not any(problem.severity == "error" for problem in problems)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/generate", description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail, listing files, if generated/ is stale")
    parser.add_argument("--lenient", type=Path, metavar="FILE", help="also write the generator input to FILE")
    args = parser.parse_args(argv)
    if not consistent(read_yaml(CONTRACT)):
        return 1

    with tempfile.TemporaryDirectory(prefix="imagegen-generate-") as tmp:
        fresh = generate_into(Path(tmp), args.lenient)
        if args.check and not TARGET.is_dir():
            print(f"scripts/generate --check: {TARGET.relative_to(ROOT)} does not exist")
            return 1
        stale = stale_files(fresh, CHECK_LABELS if args.check else WRITE_LABELS)
        if args.check:
            if stale:
                print("scripts/generate --check: the generated files do not match openapi/images.yaml:")
                for line in stale:
                    print(f"  {line}")
                print("Run scripts/generate and commit the result.")
                return 1
            print(
                "scripts/generate --check: generated/imagegen_api and overlay/imagegen/params.py: "
                "the generated code matches the contract."
            )
            return 0
        if TARGET.exists():
            shutil.rmtree(TARGET)
        shutil.copytree(fresh, TARGET)
        shutil.copy2(fresh.parent / PARAMS.name, PARAMS)
    wrote = f"scripts/generate: wrote {TARGET.relative_to(ROOT)} and {PARAMS.relative_to(ROOT)}"
    print(f"{wrote}; what changed:" if stale else f"{wrote} (nothing changed)")
    for line in stale:
        print(f"  {line}")
    return 0


def stale_files(fresh: Path, labels: tuple[str, str, str] = CHECK_LABELS) -> list[str]:
    """What differs between a fresh generation (`fresh`, params.py beside it) and the
    repository's generated/ and params.py, as lines naming each file (see CHECK_LABELS)."""
    if TARGET.is_dir():
        stale = differences(fresh, TARGET, labels)
    else:
        stale = [f"{TARGET.relative_to(ROOT)} ({labels[0]})"]  # as new as any file it would hold
    fresh_params = fresh.parent / PARAMS.name
    if not PARAMS.is_file() or PARAMS.read_bytes() != fresh_params.read_bytes():
        stale.append(f"{PARAMS.relative_to(ROOT)} ({labels[2]})")
    return stale


if __name__ == "__main__":
    sys.exit(main())
