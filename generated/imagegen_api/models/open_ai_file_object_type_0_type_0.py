from typing import Literal

OpenAIFileObjectType0Type0 = Literal["file"]

OPEN_AI_FILE_OBJECT_TYPE_0_TYPE_0_VALUES: set[OpenAIFileObjectType0Type0] = {
    "file",
}


def check_open_ai_file_object_type_0_type_0(value: str) -> OpenAIFileObjectType0Type0:
    if value in OPEN_AI_FILE_OBJECT_TYPE_0_TYPE_0_VALUES:
        return value
    raise TypeError(f"Unexpected value {value!r}. Expected one of {OPEN_AI_FILE_OBJECT_TYPE_0_TYPE_0_VALUES!r}")
