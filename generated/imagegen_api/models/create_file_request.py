from __future__ import annotations

import json
from collections.abc import Mapping
from io import BytesIO
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from .. import types
from ..models.file_purpose import FilePurpose, check_file_purpose
from ..types import UNSET, File, Unset

if TYPE_CHECKING:
    from ..models.file_expires_after import FileExpiresAfter


T = TypeVar("T", bound="CreateFileRequest")


@_attrs_define
class CreateFileRequest:
    """The multipart form of an upload."""

    file: File
    """ The file's bytes, with its name. """
    purpose: FilePurpose | str
    """ What the file is for: `vision` or `user_data` for an image to edit by `file_id`,
    `batch` for the JSONL input of a batch. (OpenAI takes other purposes too, for its
    other APIs; this contract's servers need not.)
     """
    expires_after: FileExpiresAfter | Unset = UNSET
    """ When the file expires, counted from its creation (default never, batch input 30 days). """
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        file = self.file.to_tuple()

        purpose: str
        if isinstance(self.purpose, str):
            purpose = self.purpose
        else:
            purpose = self.purpose

        expires_after: dict[str, Any] | Unset = UNSET
        if not isinstance(self.expires_after, Unset):
            expires_after = self.expires_after.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "file": file,
                "purpose": purpose,
            }
        )
        if expires_after is not UNSET:
            field_dict["expires_after"] = expires_after

        return field_dict

    def to_multipart(self) -> types.RequestFiles:
        files: types.RequestFiles = []

        files.append(("file", self.file.to_tuple()))

        if isinstance(self.purpose, str):
            files.append(("purpose", (None, str(self.purpose).encode(), "text/plain")))
        else:
            files.extend(types.form_field("purpose", self.purpose))

        if not isinstance(self.expires_after, Unset):
            files.append(
                ("expires_after", (None, json.dumps(self.expires_after.to_dict()).encode(), "application/json"))
            )

        for prop_name, prop in self.additional_properties.items():
            files.extend(types.form_field(prop_name, prop))

        return files

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.file_expires_after import FileExpiresAfter  # noqa: PLC0415

        d = dict(src_dict)
        file = File(payload=BytesIO(d.pop("file")))

        def _parse_purpose(data: object) -> FilePurpose | str:
            try:
                if not isinstance(data, str):
                    raise TypeError()
                purpose_type_0 = check_file_purpose(data)

                return purpose_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(FilePurpose | str, data)

        purpose = _parse_purpose(d.pop("purpose"))

        _expires_after = d.pop("expires_after", UNSET)
        expires_after: FileExpiresAfter | Unset
        if isinstance(_expires_after, Unset):
            expires_after = UNSET
        else:
            expires_after = FileExpiresAfter.from_dict(_expires_after)

        create_file_request = cls(
            file=file,
            purpose=purpose,
            expires_after=expires_after,
        )

        create_file_request.additional_properties = d
        return create_file_request

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
