"""`onemap import`: load a district's own files (boundaries, buildings, households, persons,
cameras, sensors, key places, enterprises, staff) into OneMap, with row-level error reports.

Call `import_file(conn, kind, path, …)` inside a transaction; see docs/importing.md.
"""

from .errors import ImportRefused
from .pipeline import ImportResult, import_file
from .templates import KINDS, TEMPLATES, write_template
from .validate import RowError

__all__ = ["KINDS", "TEMPLATES", "ImportRefused", "ImportResult", "RowError", "import_file",
           "write_template"]
