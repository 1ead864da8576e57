from typing import Literal

OpenAIFileStatusType0Type0 = Literal["error", "processed", "uploaded"]

OPEN_AI_FILE_STATUS_TYPE_0_TYPE_0_VALUES: set[OpenAIFileStatusType0Type0] = {
    "error",
    "processed",
    "uploaded",
}


def check_open_ai_file_status_type_0_type_0(value: str) -> OpenAIFileStatusType0Type0:
    if value in OPEN_AI_FILE_STATUS_TYPE_0_TYPE_0_VALUES:
        return value
    raise TypeError(f"Unexpected value {value!r}. Expected one of {OPEN_AI_FILE_STATUS_TYPE_0_TYPE_0_VALUES!r}")
