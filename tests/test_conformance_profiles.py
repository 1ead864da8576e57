"""Profiles: a run tests what a kind of server documents (data files, not code) and says which."""

from __future__ import annotations

from pathlib import Path

import pytest

from imagegen.conformance import ProfileError, load_profile, profile_names, run_conformance
from imagegen.conformance.coverage import NOT_DOCUMENTED
from imagegen.conformance.report import render_markdown, summary
from imagegen.contract import default_contract
from imagegen.server import ServerConfig, create_app, declared_model

TOKEN = "sk-profiles-test"


@pytest.mark.parametrize("name", profile_names())
def test_each_packaged_profile_fits_the_contract(name: str) -> None:
    profile = load_profile(name)

    profile.check(default_contract())
    assert profile.name == name
    assert profile.description


def test_the_packaged_profiles_are_the_known_servers() -> None:
    assert {"localai", "vllm-omni", "openai"} <= set(profile_names())


def test_a_localai_run_tests_only_what_localai_documents() -> None:
    model = "sd-1.5-ggml"
    config = ServerConfig(tokens=frozenset({TOKEN})).with_models(declared_model(model))
    outcome = run_conformance(
        model=model,
        app=create_app(config),
        token=TOKEN,
        catalog=config.catalog,
        profile="localai",
        max_examples=3,
        phases=["examples", "fuzzing"],
    )

    assert outcome.conforms, [f"{f.check}: {f.title}" for f in outcome.findings]
    assert outcome.tested == ["POST /images/generations"]
    files_and_batches = [op.name for op in default_contract().operations if not op.makes_images]
    assert outcome.not_documented == ["edits", "variations", *files_and_batches]
    assert outcome.streaming == "not documented by the profile"
    fields = outcome.coverage["POST /images/generations"].fields
    assert fields["quality"].status == NOT_DOCUMENTED
    assert fields["size"].sent > 0
    assert outcome.profile is not None
    assert outcome.profile.startswith("localai: LocalAI")
    assert "- Profile: localai: LocalAI" in render_markdown(outcome)
    assert "profile  localai: LocalAI" in summary(outcome)


def test_an_unknown_operation_is_refused_with_the_contract_s_names() -> None:
    config = ServerConfig(tokens=frozenset({TOKEN}))
    expected = "unknown operation 'upscale': the contract's operations are generations, edits"
    with pytest.raises(ValueError, match=expected):
        run_conformance(model="dall-e-2", app=create_app(config), token=TOKEN, operations=["upscale"])


def test_a_vllm_omni_run_holds_its_edits_to_base64_answers() -> None:
    model = "Qwen/Qwen-Image-Edit"
    config = ServerConfig(tokens=frozenset({TOKEN})).with_models(declared_model(model))
    outcome = run_conformance(
        model=model,
        app=create_app(config),
        token=TOKEN,
        catalog=config.catalog,
        profile="vllm-omni",
        max_examples=3,
        phases=["examples"],
    )

    assert outcome.conforms, [f"{f.check}: {f.title}" for f in outcome.findings]
    files_and_batches = [op.name for op in default_contract().operations if not op.makes_images]
    assert outcome.not_documented == ["variations", *files_and_batches]
    edits = outcome.coverage["POST /images/edits"].fields
    assert set(edits["response_format"].seen) <= {"b64_json"}
    assert edits["mask"].status == NOT_DOCUMENTED


def test_a_profile_can_be_a_file_of_ones_own(tmp_path: Path) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text("name: mine\noperations:\n  generations:\n    fields: [prompt, model, size]\n")

    profile = load_profile(str(path))

    assert profile.name == "mine"
    assert profile.documents("generations")
    assert not profile.documents("edits")
    assert profile.documents_field("generations", "size")
    assert not profile.documents_field("generations", "quality")


def test_a_profile_naming_what_the_contract_lacks_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "wrong.yaml"
    path.write_text("name: wrong\noperations:\n  generations:\n    fields: [prompt, colour]\n")

    with pytest.raises(ProfileError, match="generations has no field 'colour'"):
        load_profile(str(path)).check(default_contract())
    with pytest.raises(ProfileError, match="no profile 'nosuch'"):
        load_profile("nosuch")
