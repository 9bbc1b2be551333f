"""OpenSky's historical database, for users with an OpenSky account.

The database is Trino (``trino.opensky-network.org``, catalog ``minio``, schema
``osky``); its table ``state_vectors_data4`` holds the state vectors OpenSky's
receivers heard since 2016, partitioned by ``hour``. A query that does not constrain
``hour`` reads every partition, so each query here constrains ``hour`` as well as
``time``, names the aircraft, asks only for the columns the CSV extracts have and
reads the answer page by page: rows go through the same state-vector mapping as the
CSV and Parquet extracts (:func:`~flightwatch.collector.opensky_dataset.observations`).

A window is asked for one UTC day at a time (:func:`day_chunks`): each day is one
query, recorded as imported once committed, so an import cut short resumes at the
day it stopped in. Authentication is OpenSky's: an OAuth2 access token from its
Keycloak (password grant, client ``trino-client``) sent to Trino as a JWT bearer.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from flightwatch.collector.aggregators.errors import AggregatorError
from flightwatch.collector.aggregators.http import HttpClient
from flightwatch.collector.aggregators.opensky import TokenProvider
from flightwatch.collector.opensky_dataset import (
    COLUMNS,
    EXTRA_HINT,
    MissingExtra,
    RowErrors,
    observations,
)
from flightwatch.collector.source import CollectorError
from flightwatch.decoder import Observation

log = logging.getLogger(__name__)

SOURCE = "import/opensky-history"
TABLE = "state_vectors_data4"
CLIENT_ID = "trino-client"
ENV_USERNAME = "OPENSKY_USERNAME"
ENV_PASSWORD = "OPENSKY_PASSWORD"
_LOOPBACK = frozenset(("127.0.0.1", "localhost", "::1"))
_ICAO = re.compile(r"^[0-9a-f]{6}$")
_DAY = timedelta(days=1)


class HistoryError(CollectorError):
    """The historical database could not be asked, or refused (the import stops; the days
    already committed stay recorded and are skipped when it runs again)."""


@dataclass(frozen=True, slots=True)
class Chunk:
    """One query: these aircraft in [start, end), at most one UTC day."""

    start: datetime
    end: datetime
    icaos: tuple[str, ...]

    @property
    def name(self) -> str:
        """The chunk as recorded in the imports table: its window and its aircraft set."""
        digest = hashlib.sha1(",".join(self.icaos).encode(), usedforsecurity=False)
        return (f"{_iso(self.start)}/{_iso(self.end)} {len(self.icaos)} aircraft "
                f"{digest.hexdigest()[:16]}")


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def normalise_icaos(icaos: Iterable[str]) -> tuple[str, ...]:
    """OpenSky's spelling (lower-case hex), sorted and unique; anything else is refused,
    which also keeps the SQL built from them safe."""
    wanted = set()
    for icao in icaos:
        text = icao.strip().lower()
        if not _ICAO.match(text):
            raise HistoryError(f"{icao!r} is not a 24-bit ICAO address (6 hex digits)")
        wanted.add(text)
    return tuple(sorted(wanted))


def day_chunks(icaos: Iterable[str], since: datetime, until: datetime) -> list[Chunk]:
    """[since, until) cut at UTC midnights, for these aircraft."""
    wanted = normalise_icaos(icaos)
    if not wanted:
        raise HistoryError("no aircraft to ask for: name them with --icao or use --watched")
    chunks = []
    start = since.astimezone(UTC)
    end = until.astimezone(UTC)
    while start < end:
        midnight = (start + _DAY).replace(hour=0, minute=0, second=0, microsecond=0)
        chunks.append(Chunk(start, min(midnight, end), wanted))
        start = min(midnight, end)
    return chunks


def state_vector_sql(chunk: Chunk) -> str:
    """The query for one chunk: needed columns, partitions and times bounded, time order."""
    first = int(chunk.start.timestamp())
    stop = int(-(-chunk.end.timestamp() // 1))  # rounded up: [first, stop) covers the chunk
    first_hour = first - first % 3600
    aircraft = ", ".join(f"'{icao}'" for icao in chunk.icaos)
    return (
        f"SELECT {', '.join(COLUMNS)} FROM {TABLE} "
        f"WHERE hour >= {first_hour} AND hour < {stop} "
        f"AND time >= {first} AND time < {stop} "
        f"AND icao24 IN ({aircraft}) "
        "ORDER BY time"
    )


@dataclass
class HistoryDatabase:
    """OpenSky's Trino, as configured in ``[opensky_history]``."""

    host: str
    port: int
    http_scheme: str
    catalog: str
    schema: str
    username: str
    tokens: TokenProvider
    page_rows: int = 10_000

    @classmethod
    def from_settings(cls, section: Mapping[str, Any],
                      env: Mapping[str, str]) -> HistoryDatabase:
        username = section["username"] or env.get(ENV_USERNAME, "")
        password = env.get(ENV_PASSWORD, "")
        if not username or not password:
            raise HistoryError(
                "the OpenSky historical database needs an OpenSky account with access to it: "
                f"set [opensky_history] username (or env {ENV_USERNAME}) and env {ENV_PASSWORD}")
        host = section["host"]
        if section["http_scheme"] == "http" and host not in _LOOPBACK:
            raise HistoryError(f"refusing to send an OpenSky token over plain http to {host}; "
                               "use http_scheme = \"https\"")
        form = {"grant_type": "password", "client_id": CLIENT_ID, "username": username,
                "password": password}
        refused = (f"check the user name ({username}) and env {ENV_PASSWORD}: they are your "
                   "OpenSky account's, not an API client's")
        tokens = TokenProvider(HttpClient(name="opensky-history"), section["token_url"], form,
                               refused)
        return cls(host, section["port"], section["http_scheme"], section["catalog"],
                   section["schema"], username, tokens, section["page_rows"])

    def observations(self, chunk: Chunk, errors: RowErrors) -> Iterator[Observation]:
        """The chunk's state vectors as observations, in time order, a page at a time."""
        try:
            import trino
        except ImportError as exc:
            raise MissingExtra(f"the OpenSky historical database needs trino: {EXTRA_HINT}") \
                from exc
        sql = state_vector_sql(chunk)
        log.debug("OpenSky history: %s", sql)
        try:
            token = self.tokens.token()
        except AggregatorError as exc:
            raise HistoryError(str(exc)) from None
        connection = trino.dbapi.connect(
            host=self.host, port=self.port, user=self.username, catalog=self.catalog,
            schema=self.schema, http_scheme=self.http_scheme,
            auth=trino.auth.JWTAuthentication(token),
            allow_insecure_auth=self.http_scheme == "http",  # loopback only (from_settings)
        )
        try:
            cursor = connection.cursor()
            cursor.execute(sql)
            while rows := cursor.fetchmany(self.page_rows):
                names = [column[0] for column in cursor.description]
                yield from observations((dict(zip(names, row, strict=True)) for row in rows),
                                        SOURCE, errors)
        except trino.exceptions.TrinoQueryError as exc:
            raise HistoryError(f"OpenSky's database refused the query: {exc.message}") from None
        except (trino.exceptions.HttpError, trino.exceptions.Error, OSError) as exc:
            raise HistoryError(self._failure(str(exc))) from None
        finally:
            connection.close()

    def _failure(self, error: str) -> str:
        """What went wrong, for the user; the client's text names the HTTP status."""
        refused = re.search(r"error 40[13]", error)
        if refused:
            self.tokens.invalidate()
            return (f"OpenSky's database refused {self.username}'s token ({refused.group()}): "
                    "the account needs access to the historical database (ask OpenSky for it)")
        return (f"OpenSky's database at {self.host}:{self.port} failed or stopped answering "
                f"({error[:200]}); run the same command again to resume")
