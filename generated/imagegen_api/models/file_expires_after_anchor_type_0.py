from typing import Literal

FileExpiresAfterAnchorType0 = Literal["created_at"]

FILE_EXPIRES_AFTER_ANCHOR_TYPE_0_VALUES: set[FileExpiresAfterAnchorType0] = {
    "created_at",
}


def check_file_expires_after_anchor_type_0(value: str) -> FileExpiresAfterAnchorType0:
    if value in FILE_EXPIRES_AFTER_ANCHOR_TYPE_0_VALUES:
        return value
    raise TypeError(f"Unexpected value {value!r}. Expected one of {FILE_EXPIRES_AFTER_ANCHOR_TYPE_0_VALUES!r}")
