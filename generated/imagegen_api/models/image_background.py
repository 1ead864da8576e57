from typing import Literal

ImageBackground = Literal["auto", "opaque", "transparent"]

IMAGE_BACKGROUND_VALUES: set[ImageBackground] = {
    "auto",
    "opaque",
    "transparent",
}


def check_image_background(value: str) -> ImageBackground:
    if value in IMAGE_BACKGROUND_VALUES:
        return value
    raise TypeError(f"Unexpected value {value!r}. Expected one of {IMAGE_BACKGROUND_VALUES!r}")
