"""Mission records: writer, replay, integrity manifest, reports (issue 8)."""
