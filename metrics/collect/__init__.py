"""Automatic collection from VK and OK: errors, credentials and the collection services."""
