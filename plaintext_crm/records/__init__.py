"""Files to typed records: front matter, crm.yaml, the model, the loader and its parse cache."""
