"""The language server (`plaintext-crm lsp`): diagnostics, completion, hover, navigation and fixes in editors."""
