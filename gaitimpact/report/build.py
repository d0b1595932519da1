"""The whole HTML report from a library: sessions, surfaces side by side, shoe trends, weekly load."""

from __future__ import annotations

from datetime import datetime

from gaitimpact.errors import InputError
from gaitimpact.report.library import Library


def build_html_report(lib: Library, since: datetime | None = None) -> tuple[str, int]:
    """(self-contained HTML page, number of sessions in it) for the library's sessions since `since` (UTC)."""
    from gaitimpact.report.compare import compare
    from gaitimpact.report.html import render_report
    from gaitimpact.report.load import weekly_load
    from gaitimpact.report.overview import session_overview
    from gaitimpact.report.plots import compare_png, load_png, shoes_png
    from gaitimpact.report.shoes import shoe_trends

    if lib.count_sessions() == 0:
        raise InputError("library is empty: add sessions with `gaitimpact add FILE`", path=str(lib.path))
    sessions, strikes = session_overview(lib, since)
    if len(sessions) == 0:
        raise InputError(f"no sessions since {since:%Y-%m-%d}", field="since")
    weekly = weekly_load(strikes)
    comparison, compare_error, pngs = None, None, {}
    try:
        comparison = compare(strikes, by="surface")
        pngs["compare"] = compare_png(comparison, strikes)
    except InputError as exc:
        compare_error = f"No surface comparison: {exc}"
    shoe_report = shoe_trends(strikes, shoes=lib.shoes())
    pngs["shoes"] = shoes_png(shoe_report)
    pngs["load"] = load_png(weekly, sessions)
    page = render_report(
        library=str(lib.path),
        since=since,
        sessions=sessions,
        weekly=weekly,
        comparison=comparison,
        compare_error=compare_error,
        shoe_report=shoe_report,
        pngs=pngs,
    )
    return page, len(sessions)
