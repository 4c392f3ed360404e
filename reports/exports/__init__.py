"""Excel exports of the reports app: pure builders, plain rows in, workbook bytes out."""
