"""dues: an accounts-receivable desk."""

__version__ = "0.1.0"
