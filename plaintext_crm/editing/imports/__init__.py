"""Importing records from HubSpot, Pipedrive and spreadsheet exports, and exporting them back as CSV."""
