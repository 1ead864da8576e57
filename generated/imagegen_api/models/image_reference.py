from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="ImageReference")


@_attrs_define
class ImageReference:
    """One image given by reference. Exactly one of `image_url` and `file_id`."""

    image_url: str | Unset = UNSET
    """ An `http(s)` URL of the image, or the image itself as a `data:` URL. """
    file_id: str | Unset = UNSET
    """ The id of an image uploaded earlier through the files API. """

    def to_dict(self) -> dict[str, Any]:
        image_url = self.image_url

        file_id = self.file_id

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if image_url is not UNSET:
            field_dict["image_url"] = image_url
        if file_id is not UNSET:
            field_dict["file_id"] = file_id

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        image_url = d.pop("image_url", UNSET)

        file_id = d.pop("file_id", UNSET)

        image_reference = cls(
            image_url=image_url,
            file_id=file_id,
        )

        return image_reference
