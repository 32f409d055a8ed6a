"""faqbot: answers Danish staff's questions about peer colleagues, citing the guides."""

__version__ = "0.1.0"
