"""The version of imagegen (tests/test_packaging.py checks it is pyproject.toml's).

A constant, not importlib.metadata: reading the metadata would cost every `import imagegen` ~10 ms.
"""

__version__ = "0.1.0"
