"""Reading and writing recordings: CSV (any common dialect and app export), sidecar metadata, Parquet.

Entry point: `gaitimpact.io.load.load_recording(path)`. Submodules are imported on demand so that
importing this package stays cheap.
"""
