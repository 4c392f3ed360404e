"""Parsers of uploaded files for the reports app."""
