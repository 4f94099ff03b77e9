"""The domain's rules in plain Python: vocabularies, identity and credit-code checksums, datum
shifts, roles and masking, event intake and lifecycle.

Nothing here imports Dash, Flask, SQLAlchemy, geopandas or the database (tests/unit/
test_layering.py holds it so), which is what lets the web app, the importers, the demo and the
migrations all share one copy of each rule.
"""
