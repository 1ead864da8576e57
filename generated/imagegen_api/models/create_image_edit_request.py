from __future__ import annotations

from collections.abc import Mapping
from io import BytesIO
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from .. import types
from ..models.image_background import ImageBackground, check_image_background
from ..models.image_quality import ImageQuality, check_image_quality
from ..models.input_fidelity import InputFidelity, check_input_fidelity
from ..models.output_format import OutputFormat, check_output_format
from ..models.response_format import ResponseFormat, check_response_format
from ..types import UNSET, File, FileTypes, Unset

T = TypeVar("T", bound="CreateImageEditRequest")


@_attrs_define
class CreateImageEditRequest:
    """The multipart form of an edit. Give the source images either as `image[]` parts (1 to 16)
    or as a single `image` part.

    """

    prompt: str
    """ What the images should show. Models have shorter limits than this contract's 32000
    characters: 1000 for `dall-e-2`, 4000 for `dall-e-3`.
     """
    image: list[File] | Unset = UNSET
    """ The source images, one part each: PNG, JPEG or WebP under 50 MB for the GPT image
    models; a single square PNG under 4 MB for `dall-e-2`.
     """
    mask: File | Unset = UNSET
    """ A PNG with an alpha channel, of the same size as the first image: where its alpha is 0
    the model repaints, elsewhere the first image is kept. Under 4 MB.
     """
    model: str | Unset = UNSET
    """ The model that creates the images. OpenAI serves `gpt-image-1`, `gpt-image-1-mini`,
    `gpt-image-1.5`, `gpt-image-2` (also as its snapshot `gpt-image-2-2026-04-21`) and, for
    edits, `chatgpt-image-latest`; `dall-e-2` and `dall-e-3` are retired from OpenAI's own API
    but compatible servers still serve them. Other servers name their own models (for
    example `sd-1.5-ggml` on LocalAI). What each model accepts is listed in the contract's
    `x-imagegen-models`. When left out, generations use `dall-e-2`, edits `gpt-image-1.5` and
    variations `dall-e-2`.
     """
    n: int | Unset = UNSET
    """ How many images to create, 1 to 10 (server default 1). `dall-e-3` makes one only. """
    size: str | Unset = UNSET
    """ `WIDTHxHEIGHT` in pixels, or `auto` to let the model choose. Each model takes its own set:
    `dall-e-2` 256x256, 512x512, 1024x1024; `dall-e-3` 1024x1024, 1792x1024, 1024x1792; the
    GPT image models 1024x1024, 1536x1024, 1024x1536 and auto; `gpt-image-2` also any size
    whose sides are multiples of 16, with a ratio of at most 3:1 and at most 3840x2160.
     """
    quality: ImageQuality | str | Unset = UNSET
    """ How much effort goes into each image (server default `auto`). `low`, `medium` and `high`
    are for the GPT image models, `standard` and `hd` for `dall-e-3`; `dall-e-2` knows only
    `standard`.
     """
    response_format: ResponseFormat | str | Unset = UNSET
    """ How `dall-e-2` and `dall-e-3` return images: a `url` valid for 60 minutes (their default)
    or the bytes as `b64_json`. GPT image models always return `b64_json` and reject this field.
     """
    background: ImageBackground | str | Unset = UNSET
    """ Background of GPT image model output (default `auto`). `transparent` needs an output
    format with an alpha channel, `png` or `webp`.
     """
    output_format: OutputFormat | str | Unset = UNSET
    """ The file format of GPT image model output (default `png`). """
    output_compression: int | Unset = UNSET
    """ Compression level in percent for `jpeg` and `webp` output of GPT image models (default 100). """
    input_fidelity: InputFidelity | str | Unset = UNSET
    """ How closely an edit keeps the style and features (faces in particular) of the input images
    (default `low`). Taken by `gpt-image-1`, `gpt-image-1.5` and later, not `gpt-image-1-mini`.
     """
    stream: bool | Unset = UNSET
    """ Answer with server-sent events instead of one JSON body (GPT image models; default false). """
    partial_images: int | Unset = UNSET
    """ How many partial images a stream sends before each final image, 0 to 3 (default 0). A
    server may finish before sending them all.
     """
    user: str | Unset = UNSET
    """ An identifier of the end user on whose behalf the request is made, to help detect abuse. """
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        prompt = self.prompt

        image: list[FileTypes] | Unset = UNSET
        if not isinstance(self.image, Unset):
            image = []
            for image_item_data in self.image:
                image_item = image_item_data.to_tuple()

                image.append(image_item)

        mask: FileTypes | Unset = UNSET
        if not isinstance(self.mask, Unset):
            mask = self.mask.to_tuple()

        model = self.model

        n = self.n

        size = self.size

        quality: str | Unset
        if isinstance(self.quality, Unset):
            quality = UNSET
        elif isinstance(self.quality, str):
            quality = self.quality
        else:
            quality = self.quality

        response_format: str | Unset
        if isinstance(self.response_format, Unset):
            response_format = UNSET
        elif isinstance(self.response_format, str):
            response_format = self.response_format
        else:
            response_format = self.response_format

        background: str | Unset
        if isinstance(self.background, Unset):
            background = UNSET
        elif isinstance(self.background, str):
            background = self.background
        else:
            background = self.background

        output_format: str | Unset
        if isinstance(self.output_format, Unset):
            output_format = UNSET
        elif isinstance(self.output_format, str):
            output_format = self.output_format
        else:
            output_format = self.output_format

        output_compression = self.output_compression

        input_fidelity: str | Unset
        if isinstance(self.input_fidelity, Unset):
            input_fidelity = UNSET
        elif isinstance(self.input_fidelity, str):
            input_fidelity = self.input_fidelity
        else:
            input_fidelity = self.input_fidelity

        stream = self.stream

        partial_images = self.partial_images

        user = self.user

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "prompt": prompt,
            }
        )
        if image is not UNSET:
            field_dict["image[]"] = image
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
        if response_format is not UNSET:
            field_dict["response_format"] = response_format
        if background is not UNSET:
            field_dict["background"] = background
        if output_format is not UNSET:
            field_dict["output_format"] = output_format
        if output_compression is not UNSET:
            field_dict["output_compression"] = output_compression
        if input_fidelity is not UNSET:
            field_dict["input_fidelity"] = input_fidelity
        if stream is not UNSET:
            field_dict["stream"] = stream
        if partial_images is not UNSET:
            field_dict["partial_images"] = partial_images
        if user is not UNSET:
            field_dict["user"] = user

        return field_dict

    def to_multipart(self) -> types.RequestFiles:
        files: types.RequestFiles = []

        files.extend(types.form_field("prompt", self.prompt))

        if not isinstance(self.image, Unset):
            for image_item_element in self.image:
                files.append(("image[]", image_item_element.to_tuple()))

        if not isinstance(self.mask, Unset):
            files.append(("mask", self.mask.to_tuple()))

        if not isinstance(self.model, Unset):
            files.extend(types.form_field("model", self.model))

        if not isinstance(self.n, Unset):
            files.append(("n", (None, str(self.n).encode(), "text/plain")))

        if not isinstance(self.size, Unset):
            files.extend(types.form_field("size", self.size))

        if not isinstance(self.quality, Unset):
            if isinstance(self.quality, str):
                files.append(("quality", (None, str(self.quality).encode(), "text/plain")))
            else:
                files.extend(types.form_field("quality", self.quality))

        if not isinstance(self.response_format, Unset):
            if isinstance(self.response_format, str):
                files.append(("response_format", (None, str(self.response_format).encode(), "text/plain")))
            else:
                files.extend(types.form_field("response_format", self.response_format))

        if not isinstance(self.background, Unset):
            if isinstance(self.background, str):
                files.append(("background", (None, str(self.background).encode(), "text/plain")))
            else:
                files.extend(types.form_field("background", self.background))

        if not isinstance(self.output_format, Unset):
            if isinstance(self.output_format, str):
                files.append(("output_format", (None, str(self.output_format).encode(), "text/plain")))
            else:
                files.extend(types.form_field("output_format", self.output_format))

        if not isinstance(self.output_compression, Unset):
            files.append(("output_compression", (None, str(self.output_compression).encode(), "text/plain")))

        if not isinstance(self.input_fidelity, Unset):
            if isinstance(self.input_fidelity, str):
                files.append(("input_fidelity", (None, str(self.input_fidelity).encode(), "text/plain")))
            else:
                files.extend(types.form_field("input_fidelity", self.input_fidelity))

        if not isinstance(self.stream, Unset):
            files.append(("stream", (None, b"true" if self.stream else b"false", "text/plain")))

        if not isinstance(self.partial_images, Unset):
            files.append(("partial_images", (None, str(self.partial_images).encode(), "text/plain")))

        if not isinstance(self.user, Unset):
            files.extend(types.form_field("user", self.user))

        for prop_name, prop in self.additional_properties.items():
            files.extend(types.form_field(prop_name, prop))

        return files

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        prompt = d.pop("prompt")

        _image = d.pop("image[]", UNSET)
        image: list[File] | Unset = UNSET
        if _image is not UNSET:
            image = []
            for image_item_data in _image:
                image_item = File(payload=BytesIO(image_item_data))

                image.append(image_item)

        _mask = d.pop("mask", UNSET)
        mask: File | Unset
        if isinstance(_mask, Unset):
            mask = UNSET
        else:
            mask = File(payload=BytesIO(_mask))

        model = d.pop("model", UNSET)

        n = d.pop("n", UNSET)

        size = d.pop("size", UNSET)

        def _parse_quality(data: object) -> ImageQuality | str | Unset:
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                quality_type_0 = check_image_quality(data)

                return quality_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(ImageQuality | str | Unset, data)

        quality = _parse_quality(d.pop("quality", UNSET))

        def _parse_response_format(data: object) -> ResponseFormat | str | Unset:
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                response_format_type_0 = check_response_format(data)

                return response_format_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(ResponseFormat | str | Unset, data)

        response_format = _parse_response_format(d.pop("response_format", UNSET))

        def _parse_background(data: object) -> ImageBackground | str | Unset:
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                background_type_0 = check_image_background(data)

                return background_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(ImageBackground | str | Unset, data)

        background = _parse_background(d.pop("background", UNSET))

        def _parse_output_format(data: object) -> OutputFormat | str | Unset:
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                output_format_type_0 = check_output_format(data)

                return output_format_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(OutputFormat | str | Unset, data)

        output_format = _parse_output_format(d.pop("output_format", UNSET))

        output_compression = d.pop("output_compression", UNSET)

        def _parse_input_fidelity(data: object) -> InputFidelity | str | Unset:
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                input_fidelity_type_0 = check_input_fidelity(data)

                return input_fidelity_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(InputFidelity | str | Unset, data)

        input_fidelity = _parse_input_fidelity(d.pop("input_fidelity", UNSET))

        stream = d.pop("stream", UNSET)

        partial_images = d.pop("partial_images", UNSET)

        user = d.pop("user", UNSET)

        create_image_edit_request = cls(
            prompt=prompt,
            image=image,
            mask=mask,
            model=model,
            n=n,
            size=size,
            quality=quality,
            response_format=response_format,
            background=background,
            output_format=output_format,
            output_compression=output_compression,
            input_fidelity=input_fidelity,
            stream=stream,
            partial_images=partial_images,
            user=user,
        )

        create_image_edit_request.additional_properties = d
        return create_image_edit_request

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
