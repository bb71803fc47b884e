"""The delivery side's figures: critical-path schedules and project statuses."""
