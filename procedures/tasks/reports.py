"""Report tasks (month close)."""
