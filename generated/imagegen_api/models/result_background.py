from typing import Literal

ResultBackground = Literal["opaque", "transparent"]

RESULT_BACKGROUND_VALUES: set[ResultBackground] = {
    "opaque",
    "transparent",
}


def check_result_background(value: str) -> ResultBackground:
    if value in RESULT_BACKGROUND_VALUES:
        return value
    raise TypeError(f"Unexpected value {value!r}. Expected one of {RESULT_BACKGROUND_VALUES!r}")
