"""Read queries the pages and the API share, each next to the SQL it runs."""
