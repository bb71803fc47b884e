"""plaintext-crm: clients, deals and projects as Markdown files, linted and rendered as a static site."""

__version__ = "0.1.0"
