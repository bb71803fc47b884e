"""The CRM side's figures: per-deal figures, board, follow-ups, forecast, .ics feeds."""
