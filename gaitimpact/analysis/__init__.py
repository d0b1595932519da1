"""The analysis layer: one service from a recording file to its results (`service.analyze_path`) and the
summary that leaves the program (`summary`). Every command (analyze, batch, add, compare, record) uses it."""
