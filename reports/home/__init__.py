"""«Мои задачи»: what each role should do now, read in a fixed number of queries."""
