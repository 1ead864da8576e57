from typing import Literal

StreamedBackground = Literal["auto", "opaque", "transparent"]

STREAMED_BACKGROUND_VALUES: set[StreamedBackground] = {
    "auto",
    "opaque",
    "transparent",
}


def check_streamed_background(value: str) -> StreamedBackground:
    if value in STREAMED_BACKGROUND_VALUES:
        return value
    raise TypeError(f"Unexpected value {value!r}. Expected one of {STREAMED_BACKGROUND_VALUES!r}")
