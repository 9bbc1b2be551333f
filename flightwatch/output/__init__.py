"""Output writers shared by the CLI, the mail and the web page: table, CSV, JSON Lines,
GeoJSON, KML, the HTML map and the daily digest."""
