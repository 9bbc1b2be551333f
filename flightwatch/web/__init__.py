"""The web pages and their read-only JSON API (``flightwatch serve``, ``[web] listen``)."""
