from typing import Literal

StreamedQuality = Literal["auto", "high", "low", "medium"]

STREAMED_QUALITY_VALUES: set[StreamedQuality] = {
    "auto",
    "high",
    "low",
    "medium",
}


def check_streamed_quality(value: str) -> StreamedQuality:
    if value in STREAMED_QUALITY_VALUES:
        return value
    raise TypeError(f"Unexpected value {value!r}. Expected one of {STREAMED_QUALITY_VALUES!r}")
