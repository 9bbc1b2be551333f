"""``flightwatch run`` fed by a real dump1090 at the pace of the air: a watched aircraft
heard on final into Minsk National down to ~300 ft, then never again. The daemon's
wall-clock expiry loses it; it landed (inferred) in the flights table, in the alerts
table and in the mail, and it did not "go silent"."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from integration.daemon_helpers import (
    FIRST,
    PacedFeed,
    SmtpSink,
    alerts_config,
    daemon,
    flight_frames,
    free_port,
    poll,
    query,
    utc,
    wait_connected,
    write_config,
)
from integration.dump1090 import Dump1090Ports
from landing_scenarios import FIELD_FT, INFERRED, final

from tools.simulate import Flight

pytestmark = pytest.mark.integration

EVENTS = '["first_seen_inside", "landed", "took_off", "went_silent"]'


def test_lost_on_final_is_an_inferred_landing_not_a_silence(
    dump1090: Dump1090Ports, tmp_path: Path
) -> None:
    approach = Flight(INFERRED, "RSD114",
                      [(*final(2.5), FIELD_FT + 900, 150), (*final(1.0), FIELD_FT + 300, 140)],
                      utc(FIRST - 1))
    feed = PacedFeed(flight_frames(approach, FIRST, approach.end_time - FIRST))
    smtp_port = free_port()
    config = write_config(tmp_path, dump1090.beast_out,
                          database='batch_seconds = "0.3s"\nbatch_rows = 4\n',
                          tracker='expire_after = "5s"\n',
                          extra=alerts_config(smtp_port, EVENTS))
    db = tmp_path / "fw.db"

    with SmtpSink(smtp_port) as smtp, daemon(config) as run:
        run.wait_for("flightwatch running")
        wait_connected(dump1090, dump1090.beast_out)
        feed.push(dump1090)
        poll(lambda: len(smtp.messages) >= 2, "the first_seen_inside and landed mails",
             timeout=40)
        poll(lambda: bool(query(db, "SELECT 1 FROM flights WHERE arrival_time IS NOT NULL")),
             "the arrival written", timeout=20)
        assert "Traceback" not in run.log

    (flight,) = query(db, "SELECT arrival_airport, arrival_evidence, arrival_time, last_seen, "
                          "departure_airport FROM flights")
    airport, evidence, arrival, last_seen, departure = flight
    assert (airport, evidence, departure) == ("UMMS", "inferred", None)
    # 1 NM left at 140 kt: touchdown about 26 s after the last position.
    assert 15 <= arrival - last_seen <= 40

    alerts = query(db, "SELECT kind, airport, evidence, time FROM alerts ORDER BY id")
    assert [a[:3] for a in alerts] == [("first_seen_inside", None, None),
                                      ("landed", "UMMS", "inferred")]
    landed_at = datetime.fromisoformat(str(alerts[1][3]))
    landed_at = landed_at if landed_at.tzinfo else landed_at.replace(tzinfo=UTC)
    assert abs(landed_at.timestamp() - arrival) < 1.5

    subjects = [str(m["Subject"]) for m in smtp.messages]
    assert any("landed at UMMS (Belarus), inferred, " in s and s.endswith(" ± 2 min")
               for s in subjects), subjects
    landed_mail = next(m for m in smtp.messages if "landed" in str(m["Subject"]))
    body = landed_mail.get_body(("plain",)).get_content()
    assert "How known:     inferred" in body and "runway: 31L" in body
    # The daemon drew the landing's picture and the mail carries it.
    [picture] = [p.get_content() for p in landed_mail.walk()
                 if p.get_content_type() == "image/png"]
    assert picture.startswith(b"\x89PNG") and len(picture) > 2000
    # No mail about a silence: the silence was the landing.
    assert not any("silent" in s for s in subjects)
