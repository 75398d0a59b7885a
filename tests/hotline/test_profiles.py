"""Time limits are configuration: the two shipped profiles load and validate, and an order's limits become moments
around the clock (Beijing style) or on the official working calendar (provincial), through the worker's activity."""

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from casehall.activities.hotline import OrderActivities
from casehall.calendar.store import CalendarStore
from casehall.core.settings import Settings
from casehall.hotline.profiles import UnknownProfile, load_profiles, profile
from casehall.models.hotline import LimitsInput, OrderKind
from casehall.store.hotline_repository import OrderStore

SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_shipped_profiles() -> None:
    beijing, provincial = profile("beijing"), profile("provincial")
    assert [(beijing.kinds[k].handle.amount, beijing.kinds[k].handle.unit) for k in OrderKind] == [
        (2, "hours"), (24, "hours"), (7, "days"), (15, "days")]
    normal = provincial.kinds[OrderKind.NORMAL]
    assert (normal.sign_for.amount, normal.sign_for.unit) == (1, "working_days")
    assert (normal.handle.amount, normal.handle.unit) == (5, "working_days")
    assert (provincial.extension_max.amount, provincial.return_within.amount) == (10, 2)
    with pytest.raises(UnknownProfile):
        profile("nowhere")


def test_a_profile_must_give_every_kind(tmp_path: Path) -> None:
    broken = tmp_path / "profiles.yaml"
    text = (Path(__file__).parents[2] / "casehall/hotline/profiles.yaml").read_text(encoding="utf-8")
    broken.write_text(text.replace("    consultation: {sign_for: {amount: 24, unit: hours},   handle: {amount: 15, "
                                   "unit: days}}\n", ""), encoding="utf-8")
    with pytest.raises(ValueError, match="lacks the limits of consultation"):
        load_profiles(broken)


async def test_limits_on_the_working_calendar(sessions: async_sessionmaker[AsyncSession], settings: Settings
                                              ) -> None:
    calendars = CalendarStore(sessions, settings)
    activities = OrderActivities(OrderStore(sessions), calendars)
    provincial = profile("provincial")
    friday = datetime(2026, 11, 27, 10, 0, tzinfo=SHANGHAI)
    limits = provincial.kinds[OrderKind.NORMAL]
    sign, handle, urgent = await activities.order_deadlines(LimitsInput(
        start=friday, limits=[limits.sign_for, limits.handle, provincial.kinds[OrderKind.URGENT].handle]))
    calendar = await calendars.get()
    assert sign.at == calendar.add_working_days(friday, 1).at and sign.at.astimezone(SHANGHAI).weekday() < 5
    assert sign.at - friday > timedelta(days=2)  # the weekend does not count
    assert handle.at == calendar.add_working_days(friday, 5).at
    assert urgent.at == friday + timedelta(hours=24) and not urgent.provisional
