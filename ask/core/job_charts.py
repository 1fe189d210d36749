"""The jobs page's chart: each run's duration over the last days, ok and failed apart (pygal)."""
import pygal

from ask.core.charts import STYLE, csp_ready


def durations_chart(runs: list[tuple], *, title: str) -> tuple[str, str]:
    """An SVG and its CSS: one dot a run (seconds it took), in a series for each outcome."""
    chart = pygal.DateTimeLine(
        title=title, style=STYLE, js=[], disable_xml_declaration=True, height=300, width=420,
        explicit_size=False, x_label_rotation=45, legend_at_bottom=True, legend_at_bottom_columns=3,
        stroke=False, no_data_text="No runs in these days", x_value_formatter=lambda at: at.strftime("%b %d"),
        value_formatter=lambda seconds: f"{seconds:,.1f} s")
    for outcome in ("ok", "failed", "dead"):
        points = [(run.started_at, run.duration_seconds or 0.0) for run, shown in runs if shown == outcome]
        if points:
            chart.add(outcome, points)
    return csp_ready(chart.render(is_unicode=True))
