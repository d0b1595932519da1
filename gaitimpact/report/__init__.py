"""Reporter: statistics, storage (SQLite library), plots and the HTML report."""
