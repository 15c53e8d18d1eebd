"""The staff workbook: figures from the SQL record, prize tiers, and the Excel file itself.

Free of Flask, so the CLI, the admin download, the tests and the benchmark share it.
`contest.reports.export.export_contest` is the entry point.
"""
