"""Contains all the data models used in inputs/outputs"""

from .batch import Batch
from .batch_endpoint import BatchEndpoint
from .batch_error import BatchError
from .batch_errors_type_0 import BatchErrorsType0
from .batch_metadata_type_0 import BatchMetadataType0
from .batch_object_type_0_type_0 import BatchObjectType0Type0
from .batch_request_counts import BatchRequestCounts
from .batch_status_type_0_type_0 import BatchStatusType0Type0
from .create_batch_request import CreateBatchRequest
from .create_batch_request_completion_window_type_0 import (
    CreateBatchRequestCompletionWindowType0,
)
from .create_file_request import CreateFileRequest
from .create_image_edit_json_request import CreateImageEditJsonRequest
from .create_image_edit_request import CreateImageEditRequest
from .create_image_request import CreateImageRequest
from .create_image_variation_request import CreateImageVariationRequest
from .delete_file_response import DeleteFileResponse
from .delete_file_response_object_type_0_type_0 import (
    DeleteFileResponseObjectType0Type0,
)
from .error import Error
from .error_response import ErrorResponse
from .file_expires_after import FileExpiresAfter
from .file_expires_after_anchor_type_0 import FileExpiresAfterAnchorType0
from .file_purpose import FilePurpose
from .image import Image
from .image_background import ImageBackground
from .image_edit_completed_event import ImageEditCompletedEvent
from .image_edit_partial_image_event import ImageEditPartialImageEvent
from .image_generation_completed_event import ImageGenerationCompletedEvent
from .image_generation_partial_image_event import ImageGenerationPartialImageEvent
from .image_quality import ImageQuality
from .image_reference import ImageReference
from .image_style import ImageStyle
from .image_usage import ImageUsage
from .images_response import ImagesResponse
from .input_fidelity import InputFidelity
from .input_tokens_details import InputTokensDetails
from .list_batches_response import ListBatchesResponse
from .list_batches_response_object_type_0_type_0 import (
    ListBatchesResponseObjectType0Type0,
)
from .list_files_order import ListFilesOrder
from .list_files_response import ListFilesResponse
from .list_files_response_object_type_0_type_0 import ListFilesResponseObjectType0Type0
from .moderation import Moderation
from .open_ai_file import OpenAIFile
from .open_ai_file_object_type_0_type_0 import OpenAIFileObjectType0Type0
from .open_ai_file_status_type_0_type_0 import OpenAIFileStatusType0Type0
from .output_format import OutputFormat
from .output_tokens_details import OutputTokensDetails
from .response_format import ResponseFormat
from .result_background import ResultBackground
from .result_quality import ResultQuality
from .streamed_background import StreamedBackground
from .streamed_quality import StreamedQuality

__all__ = (
    "Batch",
    "BatchEndpoint",
    "BatchError",
    "BatchErrorsType0",
    "BatchMetadataType0",
    "BatchObjectType0Type0",
    "BatchRequestCounts",
    "BatchStatusType0Type0",
    "CreateBatchRequest",
    "CreateBatchRequestCompletionWindowType0",
    "CreateFileRequest",
    "CreateImageEditJsonRequest",
    "CreateImageEditRequest",
    "CreateImageRequest",
    "CreateImageVariationRequest",
    "DeleteFileResponse",
    "DeleteFileResponseObjectType0Type0",
    "Error",
    "ErrorResponse",
    "FileExpiresAfter",
    "FileExpiresAfterAnchorType0",
    "FilePurpose",
    "Image",
    "ImageBackground",
    "ImageEditCompletedEvent",
    "ImageEditPartialImageEvent",
    "ImageGenerationCompletedEvent",
    "ImageGenerationPartialImageEvent",
    "ImageQuality",
    "ImageReference",
    "ImagesResponse",
    "ImageStyle",
    "ImageUsage",
    "InputFidelity",
    "InputTokensDetails",
    "ListBatchesResponse",
    "ListBatchesResponseObjectType0Type0",
    "ListFilesOrder",
    "ListFilesResponse",
    "ListFilesResponseObjectType0Type0",
    "Moderation",
    "OpenAIFile",
    "OpenAIFileObjectType0Type0",
    "OpenAIFileStatusType0Type0",
    "OutputFormat",
    "OutputTokensDetails",
    "ResponseFormat",
    "ResultBackground",
    "ResultQuality",
    "StreamedBackground",
    "StreamedQuality",
)
