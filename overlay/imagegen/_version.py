"""The installed version of imagegen, from the distribution's metadata."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("imagegen")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"
