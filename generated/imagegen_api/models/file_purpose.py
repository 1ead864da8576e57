from typing import Literal

FilePurpose = Literal["batch", "user_data", "vision"]

FILE_PURPOSE_VALUES: set[FilePurpose] = {
    "batch",
    "user_data",
    "vision",
}


def check_file_purpose(value: str) -> FilePurpose:
    if value in FILE_PURPOSE_VALUES:
        return value
    raise TypeError(f"Unexpected value {value!r}. Expected one of {FILE_PURPOSE_VALUES!r}")
