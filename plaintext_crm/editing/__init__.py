"""Writing records: byte-preserving edits, atomic writes, record templates, the hand-off."""
