from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.image_background import ImageBackground, check_image_background
from ..models.image_quality import ImageQuality, check_image_quality
from ..models.input_fidelity import InputFidelity, check_input_fidelity
from ..models.moderation import Moderation, check_moderation
from ..models.output_format import OutputFormat, check_output_format
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.image_reference import ImageReference


T = TypeVar("T", bound="CreateImageEditJsonRequest")


@_attrs_define
class CreateImageEditJsonRequest:
    """The JSON form of an edit, referencing its images instead of uploading them (GPT image models)."""

    images: list[ImageReference]
    """ The source images, 1 to 16. """
    prompt: str
    """ What the images should show. Models have shorter limits than this contract's 32000
    characters: 1000 for `dall-e-2`, 4000 for `dall-e-3`.
     """
    mask: ImageReference | Unset = UNSET
    """ One image given by reference. Exactly one of `image_url` and `file_id`. """
    model: None | str | Unset = UNSET
    """ The model that creates the images. OpenAI serves `gpt-image-1`, `gpt-image-1-mini`,
    `gpt-image-1.5`, `gpt-image-2` (also as its snapshot `gpt-image-2-2026-04-21`) and, for
    edits, `chatgpt-image-latest`; `dall-e-2` and `dall-e-3` are retired from OpenAI's own API
    but compatible servers still serve them. Other servers name their own models (for
    example `sd-1.5-ggml` on LocalAI). What each model accepts is listed in the contract's
    `x-imagegen-models`. When left out, generations use `dall-e-2`, edits `gpt-image-1.5` and
    variations `dall-e-2`.
     """
    n: int | None | Unset = UNSET
    """ How many images to create, 1 to 10 (server default 1). `dall-e-3` makes one only. """
    size: None | str | Unset = UNSET
    """ `WIDTHxHEIGHT` in pixels, or `auto` to let the model choose. Each model takes its own set:
    `dall-e-2` 256x256, 512x512, 1024x1024; `dall-e-3` 1024x1024, 1792x1024, 1024x1792; the
    GPT image models 1024x1024, 1536x1024, 1024x1536 and auto; `gpt-image-2` also any size
    whose sides are multiples of 16, with a ratio of at most 3:1 and at most 3840x2160.
     """
    quality: ImageQuality | None | str | Unset = UNSET
    """ How much effort goes into each image (server default `auto`). `low`, `medium` and `high`
    are for the GPT image models, `standard` and `hd` for `dall-e-3`; `dall-e-2` knows only
    `standard`.
     """
    background: ImageBackground | None | str | Unset = UNSET
    """ Background of GPT image model output (default `auto`). `transparent` needs an output
    format with an alpha channel, `png` or `webp`.
     """
    output_format: None | OutputFormat | str | Unset = UNSET
    """ The file format of GPT image model output (default `png`). """
    output_compression: int | None | Unset = UNSET
    """ Compression level in percent for `jpeg` and `webp` output of GPT image models (default 100). """
    moderation: Moderation | None | str | Unset = UNSET
    """ How strict content filtering is for GPT image models (default `auto`). """
    input_fidelity: InputFidelity | None | str | Unset = UNSET
    """ How closely an edit keeps the style and features (faces in particular) of the input images
    (default `low`). Taken by `gpt-image-1`, `gpt-image-1.5` and later, not `gpt-image-1-mini`.
     """
    stream: bool | None | Unset = UNSET
    """ Answer with server-sent events instead of one JSON body (default false). """
    partial_images: int | None | Unset = UNSET
    """ How many partial images a stream sends before each final image, 0 to 3 (default 0). A
    server may finish before sending them all.
     """
    user: str | Unset = UNSET
    """ An identifier of the end user on whose behalf the request is made, to help detect abuse. """
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        images = []
        for images_item_data in self.images:
            images_item = images_item_data.to_dict()
            images.append(images_item)

        prompt = self.prompt

        mask: dict[str, Any] | Unset = UNSET
        if not isinstance(self.mask, Unset):
            mask = self.mask.to_dict()

        model: None | str | Unset
        if isinstance(self.model, Unset):
            model = UNSET
        else:
            model = self.model

        n: int | None | Unset
        if isinstance(self.n, Unset):
            n = UNSET
        else:
            n = self.n

        size: None | str | Unset
        if isinstance(self.size, Unset):
            size = UNSET
        else:
            size = self.size

        quality: None | str | Unset
        if isinstance(self.quality, Unset):
            quality = UNSET
        elif isinstance(self.quality, str):
            quality = self.quality
        else:
            quality = self.quality

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

        output_compression: int | None | Unset
        if isinstance(self.output_compression, Unset):
            output_compression = UNSET
        else:
            output_compression = self.output_compression

        moderation: None | str | Unset
        if isinstance(self.moderation, Unset):
            moderation = UNSET
        elif isinstance(self.moderation, str):
            moderation = self.moderation
        else:
            moderation = self.moderation

        input_fidelity: None | str | Unset
        if isinstance(self.input_fidelity, Unset):
            input_fidelity = UNSET
        elif isinstance(self.input_fidelity, str):
            input_fidelity = self.input_fidelity
        else:
            input_fidelity = self.input_fidelity

        stream: bool | None | Unset
        if isinstance(self.stream, Unset):
            stream = UNSET
        else:
            stream = self.stream

        partial_images: int | None | Unset
        if isinstance(self.partial_images, Unset):
            partial_images = UNSET
        else:
            partial_images = self.partial_images

        user = self.user

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "images": images,
                "prompt": prompt,
            }
        )
        if mask is not UNSET:
            field_dict["mask"] = mask
        if model is not UNSET:
            field_dict["model"] = model
        if n is not UNSET:
            field_dict["n"] = n
        if size is not UNSET:
            field_dict["size"] = size
        if quality is not UNSET:
            field_dict["quality"] = quality
        if background is not UNSET:
            field_dict["background"] = background
        if output_format is not UNSET:
            field_dict["output_format"] = output_format
        if output_compression is not UNSET:
            field_dict["output_compression"] = output_compression
        if moderation is not UNSET:
            field_dict["moderation"] = moderation
        if input_fidelity is not UNSET:
            field_dict["input_fidelity"] = input_fidelity
        if stream is not UNSET:
            field_dict["stream"] = stream
        if partial_images is not UNSET:
            field_dict["partial_images"] = partial_images
        if user is not UNSET:
            field_dict["user"] = user

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.image_reference import ImageReference  # noqa: PLC0415

        d = dict(src_dict)
        images = []
        _images = d.pop("images")
        for images_item_data in _images:
            images_item = ImageReference.from_dict(images_item_data)

            images.append(images_item)

        prompt = d.pop("prompt")

        _mask = d.pop("mask", UNSET)
        mask: ImageReference | Unset
        if isinstance(_mask, Unset):
            mask = UNSET
        else:
            mask = ImageReference.from_dict(_mask)

        def _parse_model(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        model = _parse_model(d.pop("model", UNSET))

        def _parse_n(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        n = _parse_n(d.pop("n", UNSET))

        def _parse_size(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        size = _parse_size(d.pop("size", UNSET))

        def _parse_quality(data: object) -> ImageQuality | None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                quality_type_0 = check_image_quality(data)

                return quality_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(ImageQuality | None | str | Unset, data)

        quality = _parse_quality(d.pop("quality", UNSET))

        def _parse_background(data: object) -> ImageBackground | None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                background_type_0 = check_image_background(data)

                return background_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(ImageBackground | None | str | Unset, data)

        background = _parse_background(d.pop("background", UNSET))

        def _parse_output_format(data: object) -> None | OutputFormat | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                output_format_type_0 = check_output_format(data)

                return output_format_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | OutputFormat | str | Unset, data)

        output_format = _parse_output_format(d.pop("output_format", UNSET))

        def _parse_output_compression(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        output_compression = _parse_output_compression(d.pop("output_compression", UNSET))

        def _parse_moderation(data: object) -> Moderation | None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                moderation_type_0 = check_moderation(data)

                return moderation_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(Moderation | None | str | Unset, data)

        moderation = _parse_moderation(d.pop("moderation", UNSET))

        def _parse_input_fidelity(data: object) -> InputFidelity | None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                input_fidelity_type_0 = check_input_fidelity(data)

                return input_fidelity_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(InputFidelity | None | str | Unset, data)

        input_fidelity = _parse_input_fidelity(d.pop("input_fidelity", UNSET))

        def _parse_stream(data: object) -> bool | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(bool | None | Unset, data)

        stream = _parse_stream(d.pop("stream", UNSET))

        def _parse_partial_images(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        partial_images = _parse_partial_images(d.pop("partial_images", UNSET))

        user = d.pop("user", UNSET)

        create_image_edit_json_request = cls(
            images=images,
            prompt=prompt,
            mask=mask,
            model=model,
            n=n,
            size=size,
            quality=quality,
            background=background,
            output_format=output_format,
            output_compression=output_compression,
            moderation=moderation,
            input_fidelity=input_fidelity,
            stream=stream,
            partial_images=partial_images,
            user=user,
        )

        create_image_edit_json_request.additional_properties = d
        return create_image_edit_json_request

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
