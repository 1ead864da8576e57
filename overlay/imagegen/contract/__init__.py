"""Everything imagegen knows about the contract, read from the contract itself.

    from imagegen.contract import default_contract, violations

    contract = default_contract()
    contract.operation("edits").path                  # '/images/edits'
    [field.name for field in contract.request_fields("generations")]
    violations("generations", {"model": "dall-e-3", "n": 2}, catalog=contract.catalog)

Nothing outside this package names a path, a schema or a field list that the contract holds:
the operations come from `paths`, the fields from the request schemas, the per-model rules from
`x-imagegen-models` (one engine applies them), and validation uses the schemas themselves.
"""

from .document import (
    Contract,
    ContractError,
    contract_version,
    default_contract,
    load_contract,
    models_schema,
)
from .engine import UploadFacts, Violation, value_problem, violations
from .models import (
    IMAGE,
    MASK,
    RULES_KEY,
    Constraint,
    CustomSizes,
    FieldRule,
    ModelCatalog,
    ModelRules,
    RulesError,
    UploadRule,
    catalog_from,
    model_from,
    parse_size,
)
from .operations import FieldInfo, OperationInfo
from .validation import FormFile, FormValue, RequestInvalid, RequestValidator


def default_catalog() -> ModelCatalog:
    """The models of the packaged contract."""
    return default_contract().catalog


__all__ = [
    "IMAGE",
    "MASK",
    "RULES_KEY",
    "Constraint",
    "Contract",
    "ContractError",
    "CustomSizes",
    "FieldInfo",
    "FieldRule",
    "FormFile",
    "FormValue",
    "ModelCatalog",
    "ModelRules",
    "OperationInfo",
    "RequestInvalid",
    "RequestValidator",
    "RulesError",
    "UploadFacts",
    "UploadRule",
    "Violation",
    "catalog_from",
    "contract_version",
    "default_catalog",
    "default_contract",
    "load_contract",
    "model_from",
    "models_schema",
    "parse_size",
    "value_problem",
    "violations",
]
