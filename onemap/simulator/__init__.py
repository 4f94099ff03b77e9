"""`onemap simulate`: a live district. Reports, officers, grid workers and sensors act through
the public HTTP API with API tokens, at the demo's rhythms (etl/demo/rhythms.py).

scenario.py  what happens and when (rates, choices, delays): pure, seeded
walking.py   where a worker is on the way to a case or a building: pure
readings.py  what a sensor reads, and its excursions past a threshold: pure
client.py    HTTP with retries (connection errors, 503 with Retry-After)
cast.py      the simulator's users, tokens and staff links, and what it reads once from the
             database (the only writes it makes there)
places.py    buildings and grids read once through the layers API
runner.py    the clock, the schedule and the actors
"""
