from typing import Literal

OutputFormat = Literal["jpeg", "png", "webp"]

OUTPUT_FORMAT_VALUES: set[OutputFormat] = {
    "jpeg",
    "png",
    "webp",
}


def check_output_format(value: str) -> OutputFormat:
    if value in OUTPUT_FORMAT_VALUES:
        return value
    raise TypeError(f"Unexpected value {value!r}. Expected one of {OUTPUT_FORMAT_VALUES!r}")
