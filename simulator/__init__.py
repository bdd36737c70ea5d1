"""ruralsim: rural connectivity coverage simulator."""

__version__ = "0.1.0"
