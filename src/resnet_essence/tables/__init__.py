"""The tables a run writes: their columns (the schema), and the aggregation of per-run files into
the tables the claims and the report read; and two runs' results compared cell for cell.
"""
