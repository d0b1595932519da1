"""Batch analysis of many recordings: discovery, content-hash resume, process pool or Dask, one row per file.

Entry point: `gaitimpact.batch.runner.run_batch`. Row layout: `gaitimpact.batch.flatten`.
"""
