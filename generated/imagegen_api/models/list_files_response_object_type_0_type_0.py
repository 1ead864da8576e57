from typing import Literal

ListFilesResponseObjectType0Type0 = Literal["list"]

LIST_FILES_RESPONSE_OBJECT_TYPE_0_TYPE_0_VALUES: set[ListFilesResponseObjectType0Type0] = {
    "list",
}


def check_list_files_response_object_type_0_type_0(value: str) -> ListFilesResponseObjectType0Type0:
    if value in LIST_FILES_RESPONSE_OBJECT_TYPE_0_TYPE_0_VALUES:
        return value
    raise TypeError(f"Unexpected value {value!r}. Expected one of {LIST_FILES_RESPONSE_OBJECT_TYPE_0_TYPE_0_VALUES!r}")
