"""What git says: reading the log once, stage history, changes between points, activity."""
