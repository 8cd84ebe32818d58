"""(Being written: the proposals KPI metrics.)"""

CODES = [
    "proposals.received",
    "proposals.answered_in_time",
    "proposals.acceptance_rate",
    "proposals.implemented_on_time",
    "proposals.answer_days_median",
]


def register_metrics() -> None:
    return None
