from typing import Literal

ResultQuality = Literal["high", "low", "medium"]

RESULT_QUALITY_VALUES: set[ResultQuality] = {
    "high",
    "low",
    "medium",
}


def check_result_quality(value: str) -> ResultQuality:
    if value in RESULT_QUALITY_VALUES:
        return value
    raise TypeError(f"Unexpected value {value!r}. Expected one of {RESULT_QUALITY_VALUES!r}")
