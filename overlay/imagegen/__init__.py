"""imagegen: generate, edit and vary images on any OpenAI-compatible server.

The low-level client generated from the contract is the `imagegen_api` package; this package
adds what people use on top of it. Public names are listed in `__all__` and nowhere else.
"""

from ._version import __version__
from .contract import contract_version, load_contract
from .rules import (
    CustomSizes,
    InputRules,
    ModelCatalog,
    ModelRules,
    RulesError,
    catalog_from,
    default_catalog,
    parse_size,
)

__all__ = [
    "CustomSizes",
    "InputRules",
    "ModelCatalog",
    "ModelRules",
    "RulesError",
    "__version__",
    "catalog_from",
    "contract_version",
    "default_catalog",
    "load_contract",
    "parse_size",
]
