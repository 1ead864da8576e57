from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.file_expires_after_anchor_type_0 import (
    FileExpiresAfterAnchorType0,
    check_file_expires_after_anchor_type_0,
)

T = TypeVar("T", bound="FileExpiresAfter")


@_attrs_define
class FileExpiresAfter:
    """When the file expires, counted from its creation (default never, batch input 30 days)."""

    anchor: FileExpiresAfterAnchorType0 | str
    seconds: int
    """ Seconds after the anchor, from 3600 (an hour) to 2592000 (30 days). """
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        anchor: str
        if isinstance(self.anchor, str):
            anchor = self.anchor
        else:
            anchor = self.anchor

        seconds = self.seconds

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "anchor": anchor,
                "seconds": seconds,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)

        def _parse_anchor(data: object) -> FileExpiresAfterAnchorType0 | str:
            try:
                if not isinstance(data, str):
                    raise TypeError()
                anchor_type_0 = check_file_expires_after_anchor_type_0(data)

                return anchor_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(FileExpiresAfterAnchorType0 | str, data)

        anchor = _parse_anchor(d.pop("anchor"))

        seconds = d.pop("seconds")

        file_expires_after = cls(
            anchor=anchor,
            seconds=seconds,
        )

        file_expires_after.additional_properties = d
        return file_expires_after

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
