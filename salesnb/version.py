"""The package version (one place: the API, the findings and the report footer read it)."""
__version__ = "0.1.0"
