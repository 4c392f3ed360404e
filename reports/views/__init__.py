"""Pages of the reports app: the Table-1 workflow (workflow.py) and the rankings."""
