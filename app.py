"""OneMap's Dash app: `server` is the WSGI callable gunicorn serves (gunicorn app:server)."""

import dash

import callbacks  # noqa: F401  (registers every page's callbacks)
from onemap.health import register_health
from onemap.web.api_events import api as events_api
from onemap.web.api_layers import api as layers_api
from onemap.web.api_lookup_housing import api as lookup_housing_api
from onemap.web.api_lookup_search import api as lookup_search_api
from onemap.web.api_lookup_units import api as lookup_units_api
from onemap.web.api_persons import api as persons_api
from onemap.web.api_sensors import api as sensors_api
from onemap.web.api_staff import api as staff_api
from onemap.web.auth import init_auth
from onemap.web.cockpit_report import report as cockpit_report
from onemap.web.export_files import files as export_files
from onemap.web.openapi import api as openapi_api
from onemap.web.errors import init_errors
from onemap.web.not_found import init_not_found
from onemap.web.ogc import api as ogc_api
from onemap.web.open311 import api as open311_api
from onemap.web.outage import init_outage
from onemap.web.request_guard import init_request_guard
from onemap.web.security import init_security
from onemap.web.tiles import api as tiles_api
from pages.shell import permit_pages

app = dash.Dash(
    __name__,
    use_pages=True,
    title="OneMap 一张图",
    update_title=None,  # the wall screen's tab must not flicker "Updating…"
    serve_locally=True,  # the command centre has no internet: every asset comes from here
    suppress_callback_exceptions=True,
)
app.layout = dash.page_container
permit_pages()  # each page's declared capability, enforced at every visit
server = app.server
register_health(server)
init_errors(server)  # every ApiError a view or hook raises, answered as JSON
init_outage(server)  # database out of reach: 503 + Retry-After, one log line per change
init_security(server)
init_auth(server)
init_request_guard(server, app)  # after sign-in: 413 / 400 for oversized or malformed bodies
init_not_found(server)  # unknown /api/ paths and pages: 404, not Dash's 200 shell
server.register_blueprint(persons_api)
server.register_blueprint(events_api)
server.register_blueprint(layers_api)
server.register_blueprint(staff_api)
server.register_blueprint(sensors_api)
server.register_blueprint(open311_api)
server.register_blueprint(ogc_api)
server.register_blueprint(tiles_api)
server.register_blueprint(lookup_housing_api)
server.register_blueprint(lookup_search_api)
server.register_blueprint(lookup_units_api)
server.register_blueprint(openapi_api)
server.register_blueprint(cockpit_report)
server.register_blueprint(export_files)

# Dash completes its set-up in a before-request hook on the first request, unguarded: two
# threads' first requests at once raced it ("dictionary changed size during iteration", a 500
# under bench/intake.py's load). Done here, before any worker thread serves.
with server.test_request_context():
    app._setup_server()
