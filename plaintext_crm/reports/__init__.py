"""Terminal reports: the dashboards' tables from the analysis, as aligned text, CSV, JSON or Markdown."""
