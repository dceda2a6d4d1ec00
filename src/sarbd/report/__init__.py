"""Figures and the self-contained HTML report of a SARbd dataset (`sarbd report`)."""

from sarbd.report.html import Report, write_report

__all__ = ["Report", "write_report"]
