"""Allow `python -m plaintext_crm`."""

from plaintext_crm.cli import main

main()
