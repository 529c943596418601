"""The workspace's `minute` and `iso` filters write what `date:"Y-m-d H:i"` and `date:'c'` write,
in the page's time zone, for datetimes and for nothing."""

import datetime as dt
import zoneinfo

import pytest
from django.template import engines
from django.utils import timezone, translation


def _render(body: str, value, zone: str) -> str:
    template = "{% load workspace tz %}{% timezone zone %}" + body + "{% endtimezone %}"
    return engines["django"].from_string(template).render({"value": value, "zone": zone})


@pytest.mark.parametrize(
    "value",
    [
        dt.datetime(2026, 12, 7, 16, 5, 9, 123456, tzinfo=dt.UTC),
        dt.datetime(2026, 12, 31, 23, 59, tzinfo=dt.UTC),  # another day, month and year in +08:00
        dt.datetime(2026, 3, 29, 1, 30, tzinfo=zoneinfo.ZoneInfo("Europe/Berlin")),
        None,
        "",
    ],
)
@pytest.mark.parametrize("zone", ["Asia/Shanghai", "UTC", "America/New_York"])
@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_same_text_as_the_date_filter(value, zone, language):
    with translation.override(language), timezone.override("Asia/Shanghai"):
        ours = _render("{{ value|minute }}#{{ value|iso }}", value, zone)
        django = _render('{{ value|date:"Y-m-d H:i" }}#{{ value|date:"c" }}', value, zone)
    assert ours == django
    if isinstance(value, dt.datetime):
        local = timezone.localtime(value, zoneinfo.ZoneInfo(zone))
        assert ours == f"{local:%Y-%m-%d %H:%M}#{local.isoformat()}"
