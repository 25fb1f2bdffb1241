"""sitegen: one content tree, one pre-rendered static site per region."""

__version__ = "0.1.0"
