"""Contains all the data models used in inputs/outputs"""

from .create_image_edit_json_request import CreateImageEditJsonRequest
from .create_image_edit_request import CreateImageEditRequest
from .create_image_edit_request_background import CreateImageEditRequestBackground
from .create_image_edit_request_input_fidelity import (
    CreateImageEditRequestInputFidelity,
)
from .create_image_edit_request_output_format import CreateImageEditRequestOutputFormat
from .create_image_edit_request_quality import CreateImageEditRequestQuality
from .create_image_edit_request_response_format import (
    CreateImageEditRequestResponseFormat,
)
from .create_image_request import CreateImageRequest
from .create_image_variation_request import CreateImageVariationRequest
from .create_image_variation_request_response_format import (
    CreateImageVariationRequestResponseFormat,
)
from .error import Error
from .error_response import ErrorResponse
from .image import Image
from .image_background import ImageBackground
from .image_edit_completed_event import ImageEditCompletedEvent
from .image_edit_completed_event_background_type_0 import (
    ImageEditCompletedEventBackgroundType0,
)
from .image_edit_completed_event_output_format_type_0 import (
    ImageEditCompletedEventOutputFormatType0,
)
from .image_edit_completed_event_quality_type_0 import (
    ImageEditCompletedEventQualityType0,
)
from .image_edit_partial_image_event import ImageEditPartialImageEvent
from .image_edit_partial_image_event_background_type_0 import (
    ImageEditPartialImageEventBackgroundType0,
)
from .image_edit_partial_image_event_output_format_type_0 import (
    ImageEditPartialImageEventOutputFormatType0,
)
from .image_edit_partial_image_event_quality_type_0 import (
    ImageEditPartialImageEventQualityType0,
)
from .image_generation_completed_event import ImageGenerationCompletedEvent
from .image_generation_completed_event_background_type_0 import (
    ImageGenerationCompletedEventBackgroundType0,
)
from .image_generation_completed_event_output_format_type_0 import (
    ImageGenerationCompletedEventOutputFormatType0,
)
from .image_generation_completed_event_quality_type_0 import (
    ImageGenerationCompletedEventQualityType0,
)
from .image_generation_partial_image_event import ImageGenerationPartialImageEvent
from .image_generation_partial_image_event_background_type_0 import (
    ImageGenerationPartialImageEventBackgroundType0,
)
from .image_generation_partial_image_event_output_format_type_0 import (
    ImageGenerationPartialImageEventOutputFormatType0,
)
from .image_generation_partial_image_event_quality_type_0 import (
    ImageGenerationPartialImageEventQualityType0,
)
from .image_quality import ImageQuality
from .image_reference import ImageReference
from .image_style import ImageStyle
from .image_usage import ImageUsage
from .images_response import ImagesResponse
from .images_response_background_type_0 import ImagesResponseBackgroundType0
from .images_response_output_format_type_0 import ImagesResponseOutputFormatType0
from .images_response_quality_type_0 import ImagesResponseQualityType0
from .input_fidelity import InputFidelity
from .input_tokens_details import InputTokensDetails
from .moderation import Moderation
from .output_format import OutputFormat
from .output_tokens_details import OutputTokensDetails
from .response_format import ResponseFormat
from .result_background import ResultBackground
from .result_quality import ResultQuality
from .streamed_background import StreamedBackground
from .streamed_quality import StreamedQuality

__all__ = (
    "CreateImageEditJsonRequest",
    "CreateImageEditRequest",
    "CreateImageEditRequestBackground",
    "CreateImageEditRequestInputFidelity",
    "CreateImageEditRequestOutputFormat",
    "CreateImageEditRequestQuality",
    "CreateImageEditRequestResponseFormat",
    "CreateImageRequest",
    "CreateImageVariationRequest",
    "CreateImageVariationRequestResponseFormat",
    "Error",
    "ErrorResponse",
    "Image",
    "ImageBackground",
    "ImageEditCompletedEvent",
    "ImageEditCompletedEventBackgroundType0",
    "ImageEditCompletedEventOutputFormatType0",
    "ImageEditCompletedEventQualityType0",
    "ImageEditPartialImageEvent",
    "ImageEditPartialImageEventBackgroundType0",
    "ImageEditPartialImageEventOutputFormatType0",
    "ImageEditPartialImageEventQualityType0",
    "ImageGenerationCompletedEvent",
    "ImageGenerationCompletedEventBackgroundType0",
    "ImageGenerationCompletedEventOutputFormatType0",
    "ImageGenerationCompletedEventQualityType0",
    "ImageGenerationPartialImageEvent",
    "ImageGenerationPartialImageEventBackgroundType0",
    "ImageGenerationPartialImageEventOutputFormatType0",
    "ImageGenerationPartialImageEventQualityType0",
    "ImageQuality",
    "ImageReference",
    "ImagesResponse",
    "ImagesResponseBackgroundType0",
    "ImagesResponseOutputFormatType0",
    "ImagesResponseQualityType0",
    "ImageStyle",
    "ImageUsage",
    "InputFidelity",
    "InputTokensDetails",
    "Moderation",
    "OutputFormat",
    "OutputTokensDetails",
    "ResponseFormat",
    "ResultBackground",
    "ResultQuality",
    "StreamedBackground",
    "StreamedQuality",
)
