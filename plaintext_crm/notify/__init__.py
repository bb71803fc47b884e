"""Daily digests: what each owner must do, computed from the analysis, rendered and sent by email or chat."""
