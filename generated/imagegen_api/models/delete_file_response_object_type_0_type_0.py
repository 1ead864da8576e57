from typing import Literal

DeleteFileResponseObjectType0Type0 = Literal["file"]

DELETE_FILE_RESPONSE_OBJECT_TYPE_0_TYPE_0_VALUES: set[DeleteFileResponseObjectType0Type0] = {
    "file",
}


def check_delete_file_response_object_type_0_type_0(value: str) -> DeleteFileResponseObjectType0Type0:
    if value in DELETE_FILE_RESPONSE_OBJECT_TYPE_0_TYPE_0_VALUES:
        return value
    raise TypeError(f"Unexpected value {value!r}. Expected one of {DELETE_FILE_RESPONSE_OBJECT_TYPE_0_TYPE_0_VALUES!r}")
