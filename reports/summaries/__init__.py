"""Territory summaries and the completeness of reporting."""
