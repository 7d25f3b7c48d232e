"""The one reader of time stamps and the one wording of ages (tui/services/core/times.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from tui.services.core.times import age_words, days_left, parse_utc, utc_stamp

PLUS2 = timezone(timedelta(hours=2))


@pytest.mark.parametrize(("text", "moment"), [
    # keylink's own form, and the forms an exchange writes
    ("2026-12-05T07:50:24Z", datetime(2026, 12, 5, 7, 50, 24, tzinfo=UTC)),
    ("2026-12-05T07:50:24+00:00", datetime(2026, 12, 5, 7, 50, 24, tzinfo=UTC)),
    ("2026-12-05T07:50:24.123Z", datetime(2026, 12, 5, 7, 50, 24, 123000, tzinfo=UTC)),
    ("2026-12-05T07:50:24.123456789Z", datetime(2026, 12, 5, 7, 50, 24, 123456, tzinfo=UTC)),
    ("2026-12-05T09:50:24+02:00", datetime(2026, 12, 5, 9, 50, 24, tzinfo=PLUS2)),
    ("2026-12-05T09:50:24+0200", datetime(2026, 12, 5, 9, 50, 24, tzinfo=PLUS2)),
    # no zone: UTC
    ("2026-12-05T07:50:24", datetime(2026, 12, 5, 7, 50, 24, tzinfo=UTC)),
    ("2026-12-05 07:50", datetime(2026, 12, 5, 7, 50, tzinfo=UTC)),
    ("2026-12-05", datetime(2026, 12, 5, tzinfo=UTC)),
    # far dates that still fit
    ("9999-12-31T23:59:59Z", datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)),
    ("0001-01-01T00:00:00Z", datetime(1, 1, 1, tzinfo=UTC)),
    ("0001-01-01T00:00:00", datetime(1, 1, 1, tzinfo=UTC)),
])
def test_parse_utc_reads_iso_times(text, moment):
    got = parse_utc(text)
    assert got == moment
    assert got.utcoffset() == moment.utcoffset()  # a zone given is kept, none given is UTC


@pytest.mark.parametrize("value", [
    None, "", " ", "junk", "2026-13-01T00:00:00Z", "2026-02-30", "2026-12-05T24:00:00Z",
    "2026-12-05T07:50:24ZZ", " 2026-12-05T07:50:24Z", "2026-12-05T07:50:24Z\n", "1764921024",
    # a zone that pushes the moment out of datetime's range: unusable, so not a time
    "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00",
    # not a string at all (a hand-edited file, an exchange's odd field)
    1764921024, 1764921024.5, True, b"2026-12-05T07:50:24Z", ["2026-12-05"],
    datetime(2026, 12, 5, tzinfo=UTC),
])
def test_parse_utc_refuses_what_is_not_a_time(value):
    assert parse_utc(value) is None


def test_parse_utc_results_compare_and_subtract():
    """What it returns can always be compared with now and subtracted from it."""
    now = datetime(2026, 12, 5, 12, tzinfo=UTC)
    moments = [parse_utc(t) for t in ("2026-12-05T07:50:24Z", "2026-12-05T09:50:24+02:00",
                                      "2026-12-05", "9999-12-31T23:59:59Z", "0001-01-01")]
    for moment in moments:
        assert moment is not None
        assert moment.astimezone(UTC).tzinfo is UTC
        assert isinstance(now - moment, timedelta)
        assert (moment < now) != (moment > now)
    assert parse_utc("2026-12-05T09:50:24+02:00") == parse_utc("2026-12-05T07:50:24Z")
    assert now - parse_utc("2026-12-05T11:00:00+02:00") == timedelta(hours=3)


def test_utc_stamp_writes_utc_to_the_second_and_reads_back():
    moment = datetime(2026, 12, 5, 9, 50, 24, 987654, tzinfo=PLUS2)
    assert utc_stamp(moment) == "2026-12-05T07:50:24Z"
    assert parse_utc(utc_stamp(moment)) == moment.replace(microsecond=0)
    before = datetime.now(UTC).replace(microsecond=0)
    now = parse_utc(utc_stamp())
    assert now.tzinfo is UTC and before <= now <= datetime.now(UTC)


@pytest.mark.parametrize(("delta", "days"), [
    (timedelta(days=12), 12), (timedelta(days=12, seconds=1), 13), (timedelta(hours=3), 1),
    (timedelta(seconds=1), 1), (timedelta(0), 0), (timedelta(seconds=-1), 0),
    (timedelta(days=-400), 0),
])
def test_days_left_rounds_up_and_stops_at_zero(delta, days):
    now = datetime(2026, 12, 5, 12, tzinfo=UTC)
    assert days_left(now + delta, now) == days


def test_days_left_across_zones():
    now = datetime(2026, 12, 5, 12, tzinfo=UTC)
    assert days_left(datetime(2026, 12, 6, 14, tzinfo=PLUS2), now) == 1  # 12:00 UTC: one day


@pytest.mark.parametrize(("age", "short", "sentence"), [
    (None, "never", "never"),
    (timedelta(seconds=-30), "0 min", "1 min ago"),
    (timedelta(0), "0 min", "1 min ago"),
    (timedelta(seconds=59), "0 min", "1 min ago"),
    (timedelta(seconds=60), "1 min", "1 min ago"),
    (timedelta(minutes=5, seconds=59), "5 min", "5 min ago"),
    (timedelta(minutes=59, seconds=59), "59 min", "59 min ago"),
    (timedelta(hours=1), "1 h", "1 h ago"),
    (timedelta(hours=47, minutes=59), "47 h", "47 h ago"),
    (timedelta(days=2), "2 d", "2 days ago"),
    (timedelta(days=9, hours=23), "9 d", "9 days ago"),
    (timedelta(days=3650), "3650 d", "3650 days ago"),
])
def test_age_words_short_and_sentence_forms(age, short, sentence):
    """The two forms keylink shows: a table's ("12 d", the status list and the history) and a
    sentence's (the hand-off gate's "checked 9 days ago")."""
    assert age_words(age) == short
    assert age_words(age, ago=True, days="days", least_minutes=1) == sentence


def test_age_words_options_one_at_a_time():
    assert age_words(timedelta(days=7), days="days") == "7 days"
    assert age_words(timedelta(days=7), ago=True) == "7 d ago"
    assert age_words(timedelta(seconds=10), least_minutes=1) == "1 min"
    assert age_words(None, ago=True) == "never"
