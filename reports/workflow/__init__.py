"""The review workflow of Table-1 reports: rules, services, selectors, checks, reminders."""
