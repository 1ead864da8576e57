from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.output_format import OutputFormat, check_output_format
from ..models.result_background import ResultBackground, check_result_background
from ..models.result_quality import ResultQuality, check_result_quality
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.image import Image
    from ..models.image_usage import ImageUsage


T = TypeVar("T", bound="ImagesResponse")


@_attrs_define
class ImagesResponse:
    """The created images, and what the server made of the request."""

    created: int | None | Unset = UNSET
    """ When the images were created, in seconds since the Unix epoch. """
    data: list[Image] | None | Unset = UNSET
    """ The images, in order. """
    background: None | ResultBackground | str | Unset = UNSET
    """ The background the images were given (GPT image models). """
    output_format: None | OutputFormat | str | Unset = UNSET
    """ The file format of GPT image model output (default `png`). """
    quality: None | ResultQuality | str | Unset = UNSET
    """ The quality the images were made at (GPT image models). """
    size: None | str | Unset = UNSET
    """ The size of the images (GPT image models). """
    usage: ImageUsage | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.image_usage import ImageUsage  # noqa: PLC0415

        created: int | None | Unset
        if isinstance(self.created, Unset):
            created = UNSET
        else:
            created = self.created

        data: list[dict[str, Any]] | None | Unset
        if isinstance(self.data, Unset):
            data = UNSET
        elif isinstance(self.data, list):
            data = []
            for data_type_0_item_data in self.data:
                data_type_0_item = data_type_0_item_data.to_dict()
                data.append(data_type_0_item)

        else:
            data = self.data

        background: None | str | Unset
        if isinstance(self.background, Unset):
            background = UNSET
        elif isinstance(self.background, str):
            background = self.background
        else:
            background = self.background

        output_format: None | str | Unset
        if isinstance(self.output_format, Unset):
            output_format = UNSET
        elif isinstance(self.output_format, str):
            output_format = self.output_format
        else:
            output_format = self.output_format

        quality: None | str | Unset
        if isinstance(self.quality, Unset):
            quality = UNSET
        elif isinstance(self.quality, str):
            quality = self.quality
        else:
            quality = self.quality

        size: None | str | Unset
        if isinstance(self.size, Unset):
            size = UNSET
        else:
            size = self.size

        usage: dict[str, Any] | None | Unset
        if isinstance(self.usage, Unset):
            usage = UNSET
        elif isinstance(self.usage, ImageUsage):
            usage = self.usage.to_dict()
        else:
            usage = self.usage

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({})
        if created is not UNSET:
            field_dict["created"] = created
        if data is not UNSET:
            field_dict["data"] = data
        if background is not UNSET:
            field_dict["background"] = background
        if output_format is not UNSET:
            field_dict["output_format"] = output_format
        if quality is not UNSET:
            field_dict["quality"] = quality
        if size is not UNSET:
            field_dict["size"] = size
        if usage is not UNSET:
            field_dict["usage"] = usage

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.image import Image  # noqa: PLC0415
        from ..models.image_usage import ImageUsage  # noqa: PLC0415

        d = dict(src_dict)

        def _parse_created(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        created = _parse_created(d.pop("created", UNSET))

        def _parse_data(data: object) -> list[Image] | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                data_type_0 = []
                _data_type_0 = data
                for data_type_0_item_data in _data_type_0:
                    data_type_0_item = Image.from_dict(data_type_0_item_data)

                    data_type_0.append(data_type_0_item)

                return data_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[Image] | None | Unset, data)

        data = _parse_data(d.pop("data", UNSET))

        def _parse_background(data: object) -> None | ResultBackground | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                background_type_0_type_0 = check_result_background(data)

                return background_type_0_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | ResultBackground | str | Unset, data)

        background = _parse_background(d.pop("background", UNSET))

        def _parse_output_format(data: object) -> None | OutputFormat | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                output_format_type_0_type_0 = check_output_format(data)

                return output_format_type_0_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | OutputFormat | str | Unset, data)

        output_format = _parse_output_format(d.pop("output_format", UNSET))

        def _parse_quality(data: object) -> None | ResultQuality | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                quality_type_0_type_0 = check_result_quality(data)

                return quality_type_0_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | ResultQuality | str | Unset, data)

        quality = _parse_quality(d.pop("quality", UNSET))

        def _parse_size(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        size = _parse_size(d.pop("size", UNSET))

        def _parse_usage(data: object) -> ImageUsage | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                usage_type_0 = ImageUsage.from_dict(data)

                return usage_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(ImageUsage | None | Unset, data)

        usage = _parse_usage(d.pop("usage", UNSET))

        images_response = cls(
            created=created,
            data=data,
            background=background,
            output_format=output_format,
            quality=quality,
            size=size,
            usage=usage,
        )

        images_response.additional_properties = d
        return images_response

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
