"""Thin command-line layer: argument parsing and printing only."""
