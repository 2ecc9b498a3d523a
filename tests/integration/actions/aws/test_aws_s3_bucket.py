"""aws:s3:bucket against moto's standalone server, through the action class."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from pydantic import ValidationError

from goldenpath.actions.aws.s3_bucket import CREATE_STARTED, S3Bucket, S3BucketInputs
from goldenpath.actions.base import Context, PlanContext, ResourceRef
from goldenpath.actions.testing import MemoryJournal
from goldenpath.errors import ActionError, BackendUnavailable
from goldenpath.policy import PolicySet
from goldenpath.policy.vocabulary import described
from goldenpath.settings import BackendSettings

from .moto_support import ACCESS_KEY_ID, REGION, SECRET_ACCESS_KEY

STARTER_POLICIES = Path(__file__).parents[4] / "starter" / "policies"
MakeContext = Callable[..., Context[Any]]


def ref(name: str, resource_id: str = "r-1", **inputs: Any) -> ResourceRef:
    return ResourceRef(
        id=resource_id,
        type="aws:s3:bucket",
        name=name,
        backend="aws",
        config=S3Bucket().plan(_plan_context(S3BucketInputs(name=name, **inputs)))[0].config,
        outputs={"bucket": name, "region": REGION},
    )


def _plan_context(inputs: S3BucketInputs) -> PlanContext[S3BucketInputs]:
    return PlanContext(
        inputs=inputs,
        backends={"aws": BackendSettings(kind="aws", region=REGION)},
        owner_team="payments",
        requested_by="alice",
        template_name="test-template",
    )


def tags_of(s3: Any, name: str) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in s3.get_bucket_tagging(Bucket=name)["TagSet"]}


def bucket_exists(s3: Any, name: str) -> bool:
    return name in {b["Name"] for b in s3.list_buckets()["Buckets"]}


@pytest.fixture
def s3(raw_client: Callable[..., Any]) -> Any:
    return raw_client("s3")


def test_creates_a_private_encrypted_tagged_bucket_the_backend_can_use(
    make_context: MakeContext, s3: Any, unique: Callable[[str], str], moto_endpoint: str
) -> None:
    name = unique("reports")
    inputs = S3BucketInputs(name=name, tags={"cost-center": "cc-42"})
    outputs = S3Bucket().apply(make_context(inputs))

    assert outputs == {
        "bucket": name,
        "region": REGION,
        "arn": f"arn:aws:s3:::{name}",
        "url": f"{moto_endpoint}/{name}",
    }
    assert s3.get_bucket_location(Bucket=name)["LocationConstraint"] == REGION
    assert s3.get_public_access_block(Bucket=name)["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "IgnorePublicAcls": True,
        "BlockPublicPolicy": True,
        "RestrictPublicBuckets": True,
    }
    ownership = s3.get_bucket_ownership_controls(Bucket=name)["OwnershipControls"]
    assert ownership == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    rule = s3.get_bucket_encryption(Bucket=name)["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    assert s3.get_bucket_versioning(Bucket=name).get("Status") is None
    assert tags_of(s3, name) == {
        "owner": "payments",
        "cost-center": "cc-42",
        "golden-path": "test-template",
        "goldenpath:resource": "goldenpath:r-1",
    }

    user = boto3.client(
        "s3",
        region_name=REGION,
        endpoint_url=moto_endpoint,
        aws_access_key_id=ACCESS_KEY_ID,
        aws_secret_access_key=SECRET_ACCESS_KEY,
    )
    user.put_object(Bucket=name, Key="hello.txt", Body=b"hello")
    assert user.get_object(Bucket=name, Key="hello.txt")["Body"].read() == b"hello"
    head = user.head_object(Bucket=name, Key="hello.txt")
    assert head["ServerSideEncryption"] == "AES256"


def test_cost_center_defaults_to_unassigned_and_versioning_is_enabled_when_asked(
    make_context: MakeContext, s3: Any, unique: Callable[[str], str]
) -> None:
    name = unique("versions")
    S3Bucket().apply(make_context(S3BucketInputs(name=name, versioning=True)))
    assert tags_of(s3, name)["cost-center"] == "unassigned"
    assert s3.get_bucket_versioning(Bucket=name)["Status"] == "Enabled"


def test_a_bucket_in_us_east_1_is_created_without_a_location_constraint(
    make_context: MakeContext, raw_client: Callable[..., Any], unique: Callable[[str], str]
) -> None:
    name = unique("virginia")
    outputs = S3Bucket().apply(make_context(S3BucketInputs(name=name, region="us-east-1")))
    assert outputs["region"] == "us-east-1"
    location = raw_client("s3", "us-east-1").get_bucket_location(Bucket=name)
    assert location["LocationConstraint"] in (None, "us-east-1")


def test_a_retried_apply_returns_the_same_bucket(
    make_context: MakeContext, s3: Any, unique: Callable[[str], str], journal: MemoryJournal
) -> None:
    name = unique("retry")
    inputs = S3BucketInputs(name=name)
    first = S3Bucket().apply(make_context(inputs, journal=journal))
    s3.delete_public_access_block(Bucket=name)  # half-configured, as if the step had died
    second = S3Bucket().apply(make_context(inputs, journal=journal))
    assert first == second
    assert [b["Name"] for b in s3.list_buckets()["Buckets"]].count(name) == 1
    block = s3.get_public_access_block(Bucket=name)["PublicAccessBlockConfiguration"]
    assert all(block.values())


def test_a_foreign_bucket_of_the_same_name_is_refused_and_left_alone(
    make_context: MakeContext, s3: Any, unique: Callable[[str], str]
) -> None:
    name = unique("foreign")
    s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION})
    s3.put_object(Bucket=name, Key="theirs", Body=b"x")
    action = S3Bucket()
    with pytest.raises(ActionError, match="already exists and was not created by this request"):
        action.apply(make_context(S3BucketInputs(name=name, force_destroy=True)))
    with pytest.raises(ActionError, match="does not carry this resource's marker"):
        action.destroy(make_context(S3BucketInputs(name=name, force_destroy=True)), ref(name))
    assert s3.get_object(Bucket=name, Key="theirs")["Body"].read() == b"x"
    with pytest.raises(ClientError, match="NoSuchTagSet"):
        s3.get_bucket_tagging(Bucket=name)


def test_another_resource_cannot_take_over_a_bucket(
    make_context: MakeContext, unique: Callable[[str], str]
) -> None:
    name = unique("taken")
    action = S3Bucket()
    action.apply(make_context(S3BucketInputs(name=name), resource_id="r-owner"))
    with pytest.raises(ActionError, match="not created by this request"):
        action.apply(make_context(S3BucketInputs(name=name), resource_id="r-intruder"))
    with pytest.raises(ActionError, match="not deleting it"):
        action.destroy(make_context(S3BucketInputs(name=name), resource_id="r-intruder"), ref(name))


def test_a_bucket_left_untagged_by_an_interrupted_attempt_is_adopted(
    make_context: MakeContext, s3: Any, unique: Callable[[str], str], journal: MemoryJournal
) -> None:
    """The step died between CreateBucket and PutBucketTagging: its retry carries on."""
    name = unique("interrupted")
    journal.values[CREATE_STARTED] = (datetime.now(UTC) - timedelta(seconds=5)).isoformat()
    s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION})
    S3Bucket().apply(make_context(S3BucketInputs(name=name), journal=journal))
    assert tags_of(s3, name)["goldenpath:resource"] == "goldenpath:r-1"


def test_a_rollback_removes_a_bucket_its_interrupted_attempt_left_untagged(
    make_context: MakeContext, s3: Any, unique: Callable[[str], str], journal: MemoryJournal
) -> None:
    name = unique("rollback")
    journal.values[CREATE_STARTED] = (datetime.now(UTC) - timedelta(seconds=5)).isoformat()
    s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION})
    S3Bucket().destroy(make_context(S3BucketInputs(name=name), journal=journal), ref(name))
    assert not bucket_exists(s3, name)


def test_an_untagged_bucket_older_than_the_attempt_is_not_adopted(
    make_context: MakeContext, s3: Any, unique: Callable[[str], str], journal: MemoryJournal
) -> None:
    name = unique("older")
    s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION})
    journal.values[CREATE_STARTED] = (datetime.now(UTC) + timedelta(minutes=5)).isoformat()
    with pytest.raises(ActionError, match="not created by this request"):
        S3Bucket().apply(make_context(S3BucketInputs(name=name), journal=journal))


def test_destroy_refuses_a_non_empty_bucket_unless_forced(
    make_context: MakeContext, s3: Any, unique: Callable[[str], str], journal: MemoryJournal
) -> None:
    name = unique("full")
    action = S3Bucket()
    action.apply(make_context(S3BucketInputs(name=name, versioning=True), journal=journal))
    for body in (b"v1", b"v2", b"v3"):
        s3.put_object(Bucket=name, Key="data.csv", Body=body)
    s3.delete_object(Bucket=name, Key="data.csv")  # a delete marker on top of three versions

    with pytest.raises(ActionError, match=r"not empty: it holds 3 objects"):
        action.destroy(make_context(S3BucketInputs(name=name, versioning=True)), ref(name))
    assert bucket_exists(s3, name)

    forced = S3BucketInputs(name=name, versioning=True, force_destroy=True)
    action.destroy(make_context(forced), ref(name))
    assert not bucket_exists(s3, name)
    action.destroy(make_context(forced), ref(name))  # already gone: still fine
    action.destroy(make_context(S3BucketInputs(name=name)), ref(name))


def test_destroy_of_an_empty_bucket_needs_no_force(
    make_context: MakeContext, s3: Any, unique: Callable[[str], str]
) -> None:
    name = unique("empty")
    action = S3Bucket()
    action.apply(make_context(S3BucketInputs(name=name)))
    s3.put_object(Bucket=name, Key="tmp", Body=b"x")
    s3.delete_object(Bucket=name, Key="tmp")
    action.destroy(make_context(S3BucketInputs(name=name)), ref(name))
    assert not bucket_exists(s3, name)


def test_observe_reports_drift_after_out_of_band_changes(
    make_context: MakeContext, s3: Any, unique: Callable[[str], str]
) -> None:
    name = unique("drift")
    inputs = S3BucketInputs(name=name, tags={"cost-center": "cc-42"})
    action = S3Bucket()
    action.apply(make_context(inputs))
    assert action.observe(make_context(inputs), ref(name)).in_sync

    s3.delete_public_access_block(Bucket=name)
    observed = action.observe(make_context(inputs), ref(name))
    assert observed.exists
    assert {(d.field, d.expected, d.actual) for d in observed.drift} == {
        ("public_access_block.block_public_acls", True, False),
        ("public_access_block.ignore_public_acls", True, False),
        ("public_access_block.block_public_policy", True, False),
        ("public_access_block.restrict_public_buckets", True, False),
    }

    s3.delete_bucket_encryption(Bucket=name)
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_tagging(
        Bucket=name,
        Tagging={"TagSet": [{"Key": "goldenpath:resource", "Value": "goldenpath:r-1"}]},
    )
    fields = {d.field for d in action.observe(make_context(inputs), ref(name)).drift}
    assert {"encryption", "versioning", "tags.owner", "tags.cost-center"} <= fields

    s3.delete_bucket(Bucket=name)
    assert not action.observe(make_context(inputs), ref(name)).exists


@pytest.mark.parametrize(
    "name",
    [
        "../x",
        "a" * 64,
        "ab",
        "UPPER",
        "bad_name",
        "x'); --",
        "nul\x00bucket",
        "\uff42ucket",  # fullwidth b
        "-leading",
        "trailing-",
        "two..dots",
        "192.168.1.10",
        "xn--punycode",
        "bucket-s3alias",
        "bucket\n",
    ],
)
def test_hostile_names_are_rejected_by_the_inputs(name: str) -> None:
    with pytest.raises(ValidationError, match="name"):
        S3BucketInputs(name=name)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("tags", {"aws:createdBy": "me"}),
        ("tags", {"goldenpath:resource": "goldenpath:someone-else"}),
        ("tags", {"k": "v" * 257}),
        ("tags", {"k" * 129: "v"}),
        ("tags", {"bad\x00key": "v"}),
        ("tags", {"k": "semi;colon"}),
        ("region", "eu-west-\u0661"),  # an Arabic-Indic digit one
        ("region", "not a region"),
        ("backend", "../aws"),
        ("acl", "public"),
    ],
)
def test_bad_inputs_are_rejected(field: str, value: Any) -> None:
    with pytest.raises(ValidationError, match=field):
        S3BucketInputs.model_validate({"name": "fine-bucket", field: value})


def test_plan_reports_a_template_forced_public_bucket_and_the_guardrail_denies_it() -> None:
    inputs = S3BucketInputs.model_validate(
        {
            "name": "site",
            "acl": "public-read",
            "public_access_block": {
                "block_public_acls": False,
                "ignore_public_acls": False,
                "block_public_policy": False,
                "restrict_public_buckets": False,
            },
            "tags": {"cost-center": "cc-1"},
        }
    )
    [planned] = S3Bucket().plan(_plan_context(inputs))
    assert planned.type == "aws:s3:bucket"
    assert planned.region == REGION
    assert planned.monthly_cost_usd is None
    assert planned.config == {
        "public_access_block": {
            "block_public_acls": False,
            "ignore_public_acls": False,
            "block_public_policy": False,
            "restrict_public_buckets": False,
        },
        "acl": "public-read",
        "versioning": False,
        "encryption": "AES256",
        "tags": planned.tags,
    }
    assert planned.tags == {
        "owner": "payments",
        "cost-center": "cc-1",
        "golden-path": "test-template",
    }

    resource = described({"step": "bucket", "action": "aws:s3:bucket", **planned.as_dict()})
    verdict = PolicySet.from_paths([STARTER_POLICIES]).evaluate(
        {
            "template": {"name": "test-template"},
            "parameters": {},
            "actor": {"user": "alice", "teams": ["payments"], "roles": ["developer"]},
            "team": {"name": "payments", "monthly_budget_usd": None},
            "request": {"dry_run": True, "exception": False},
            "plan": {"resources": [resource], "outputs": [], "total_monthly_cost_usd": 0},
        }
    )
    assert verdict.decision == "deny"
    assert {v.message for v in verdict.violations} == {
        "bucket 'aws:s3:bucket.site' must block public access: block_public_acls is false",
        "bucket 'aws:s3:bucket.site' must block public access: ignore_public_acls is false",
        "bucket 'aws:s3:bucket.site' must block public access: block_public_policy is false",
        "bucket 'aws:s3:bucket.site' must block public access: restrict_public_buckets is false",
        "bucket 'aws:s3:bucket.site' must not have a public ACL: acl is 'public-read'",
    }


def test_a_region_the_backend_does_not_allow_is_refused(make_context: MakeContext) -> None:
    inputs = S3BucketInputs(name="gpt-elsewhere", region="ap-south-1")
    with pytest.raises(ActionError, match="region 'ap-south-1' is not allowed on backend 'aws'"):
        S3Bucket().apply(make_context(inputs))


def test_an_unreachable_backend_is_reported_clearly(make_context: MakeContext) -> None:
    ctx = make_context(S3BucketInputs(name="gpt-nowhere"), endpoint_url="http://127.0.0.1:1")
    with pytest.raises(BackendUnavailable, match="Backend 'aws' is unreachable"):
        S3Bucket().apply(ctx)


def test_missing_credentials_are_reported_as_a_backend_problem(
    make_context: MakeContext, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for variable in (
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
    ):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    ctx = make_context(S3BucketInputs(name="gpt-anonymous"), access_key_id=None)
    with pytest.raises(BackendUnavailable, match="no AWS credentials"):
        S3Bucket().apply(ctx)


def test_without_any_region_the_plan_says_so_and_apply_refuses(
    make_context: MakeContext,
) -> None:
    ctx = make_context(S3BucketInputs(name="gpt-regionless"), region=None)
    assert S3Bucket().plan(ctx)[0].region is None
    with pytest.raises(ActionError, match="no region given and backend 'aws' has no default"):
        S3Bucket().apply(ctx)


@pytest.mark.parametrize("allowed", ["eu-west-1, eu-central-1", '["eu-west-1", "eu-central-1"]'])
def test_allowed_regions_from_an_environment_variable_are_understood(
    make_context: MakeContext, allowed: str
) -> None:
    def plan_in(region: str) -> str | None:
        inputs = S3BucketInputs(name="gpt-env", region=region)
        return S3Bucket().plan(make_context(inputs, allowed_regions=allowed))[0].region

    assert plan_in("eu-central-1") == "eu-central-1"
    with pytest.raises(ActionError, match="region 'us-east-1' is not allowed"):
        plan_in("us-east-1")


def test_update_sets_tags_and_versioning_on_its_own_bucket_only(
    make_context: MakeContext, s3: Any, unique: Callable[[str], str]
) -> None:
    name = unique("retag")
    old = S3BucketInputs(name=name, tags={"cost-center": "cc-1", "project": "apollo"})
    outputs = S3Bucket().apply(make_context(old))
    new = S3BucketInputs(name=name, versioning=True, tags={"cost-center": "cc-2"})
    planned = {i.versioning: S3Bucket().plan(_plan_context(i))[0].config for i in (old, new)}
    change = S3Bucket().upgrade_change(planned[False], planned[True])
    assert change.outcome == "update"
    assert change.reasons[0].startswith("tags: {'cost-center': 'cc-1', 'project': 'apollo'")
    public = S3Bucket().upgrade_change(ref(name).config, ref(name, acl="public-read").config)
    assert public.reasons[-1] == "aws:s3:bucket cannot change acl in place"

    assert S3Bucket().update(make_context(new), ref(name)) == {"bucket": name, "region": REGION}
    assert tags_of(s3, name) == {
        "cost-center": "cc-2",
        "owner": "payments",
        "golden-path": "test-template",
        "goldenpath:resource": "goldenpath:r-1",
    }
    assert s3.get_bucket_versioning(Bucket=name)["Status"] == "Enabled"
    assert outputs["bucket"] == name
    with pytest.raises(ActionError, match="does not carry this resource's marker"):
        S3Bucket().update(make_context(new, resource_id="r-other"), ref(name))
    assert tags_of(s3, name)["cost-center"] == "cc-2"
