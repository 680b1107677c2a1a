"""The operators' CRD schemas, vendored in deploy/k8s/crds/, and strict validation against them.

``python tests/deploy/k8s_crds.py CRD.yaml...`` writes one JSON file per served
version of each CRD (``<group>_<kind>_<version>.json``, descriptions stripped: they
are a third of the size and validate nothing). Validation is strict like
kubernetes-validate's ``-strict`` schemas: an object schema that lists its
``properties`` and neither ``additionalProperties`` nor
``x-kubernetes-preserve-unknown-fields`` refuses any other field (the API server would
prune it silently, which is how a misspelt field goes unnoticed).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]  # no types-jsonschema in the lockfile
import yaml  # type: ignore[import-untyped]  # no types-PyYAML in the lockfile

CRD_DIR = Path(__file__).resolve().parents[2] / "deploy" / "k8s" / "crds"


def schema_name(group: str, kind: str, version: str) -> str:
    return f"{group}_{kind.lower()}_{version}.json"


def _strip(node: Any) -> Any:
    if isinstance(node, dict):
        return {key: _strip(value) for key, value in node.items() if key != "description"}
    if isinstance(node, list):
        return [_strip(item) for item in node]
    return node


def extract(crd: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """File name -> schema of every served version of one CustomResourceDefinition."""
    group = crd["spec"]["group"]
    kind = crd["spec"]["names"]["kind"]
    return {
        schema_name(group, kind, version["name"]): _strip(version["schema"]["openAPIV3Schema"])
        for version in crd["spec"]["versions"]
        if version.get("served", True)
    }


def strict(node: Any) -> Any:
    """The schema with unknown fields refused wherever the CRD lists the known ones."""
    if isinstance(node, list):
        return [strict(item) for item in node]
    if not isinstance(node, dict):
        return node
    result = {key: strict(value) for key, value in node.items()}
    if (
        "properties" in result
        and "additionalProperties" not in result
        and not result.get("x-kubernetes-preserve-unknown-fields")
    ):
        result["additionalProperties"] = False
    return result


def validator_for(api_version: str, kind: str) -> jsonschema.protocols.Validator | None:
    """A strict validator for a custom resource, or None if no schema is vendored."""
    group, _, version = api_version.rpartition("/")
    path = CRD_DIR / schema_name(group, kind, version)
    if not path.is_file():
        return None
    schema = strict(json.loads(path.read_text()))
    return jsonschema.Draft7Validator(schema)  # OpenAPI v3 structural schemas: draft 4-7


def main(paths: list[str]) -> None:
    for path in paths:
        for document in yaml.safe_load_all(Path(path).read_text()):
            if not document or document.get("kind") != "CustomResourceDefinition":
                continue
            for name, schema in extract(document).items():
                (CRD_DIR / name).write_text(json.dumps(schema, indent=1, sort_keys=True) + "\n")
                print(name)


if __name__ == "__main__":
    main(sys.argv[1:])
