"""The Jobs page's charts of one job's last days (pygal): its runs a day by outcome, and how long
they took (the longest and the average of each day). Drawn from daily counts (ask.jobs.job_days),
so a job that runs every minute costs the same as a daily one."""
import pygal

from ask.core.charts import STYLE, count_ticks, csp_ready
from ask.jobs.job_days import JobDay

COLOURS = {"ok": "#2e7d32", "failed": "#c62828", "dead": "#6a1b9a", "missed": "#ef6c00", "running": "#1565c0"}
LABEL_EVERY = 5  # a date under every fifth day: 30 rotated dates do not fit a phone


def _options(days: list[JobDay], title: str, **extra) -> dict:
    return dict(title=title, js=[], disable_xml_declaration=True, height=300, width=420, explicit_size=False,
                x_label_rotation=45, legend_at_bottom=True, legend_at_bottom_columns=3,
                x_labels=[day.day.strftime("%b %d") for day in days], x_labels_major_every=LABEL_EVERY,
                show_minor_x_labels=False, **extra)


def outcomes_chart(days: list[JobDay], *, title: str) -> tuple[str, str]:
    """An SVG and its CSS: stacked bars, one a day, its runs by outcome (whole-number ticks)."""
    shown = [outcome for outcome in COLOURS if any(day.runs.get(outcome) for day in days)]
    style = STYLE.__class__(**{**STYLE.to_dict(), "colors": tuple(COLOURS[outcome] for outcome in shown)})
    chart = pygal.StackedBar(**_options(days, title, style=style, min_scale=1, max_scale=6,
                                        value_formatter=lambda runs: f"{runs:,.0f}",
                                        no_data_text="No runs in these days"))
    for outcome in shown:
        chart.add(outcome, [day.runs.get(outcome, 0) or None for day in days])
    if shown:  # without a series pygal draws "No runs…" and cannot place ticks (it raised: a 500)
        chart.y_labels = count_ticks(max(sum(day.runs.values()) for day in days))
    return csp_ready(chart.render(is_unicode=True))


def durations_chart(days: list[JobDay], *, title: str) -> tuple[str, str]:
    """An SVG and its CSS: each day's longest and average run, in seconds (gaps where none finished)."""
    chart = pygal.Line(**_options(days, title, style=STYLE, allow_interruptions=True,
                                  value_formatter=lambda seconds: f"{seconds:,.1f} s",
                                  no_data_text="No finished runs in these days"))
    if any(day.longest is not None for day in days):
        chart.add("longest", [day.longest for day in days])
        chart.add("average", [day.average for day in days])
    return csp_ready(chart.render(is_unicode=True))
