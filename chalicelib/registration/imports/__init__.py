"""Office files: asking to upload one (`upload`), reading it whole and then a chunk at a time
(`processing`, with `csvfile` and `spreadsheets`), each row's outcome (`rows`, `reasons`), and the
report the office reads (`report`)."""
