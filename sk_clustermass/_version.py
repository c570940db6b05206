"""The version of sk_clustermass: a leaf module that every other module may import."""

__all__ = ["__version__"]

__version__ = "0.1.0.dev0"
