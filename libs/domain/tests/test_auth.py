import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from billing_domain.auth import (
    ADMIN_SCOPE,
    OPERATOR_ACTIONS,
    OWNER_ACTIONS,
    Action,
    Principal,
    Role,
    authorize,
)
from billing_domain.errors import Forbidden

pytestmark = pytest.mark.unit

TENANT = "tenant-a"


def principal(role: Role, *scopes: str, tenant_id: str = TENANT) -> Principal:
    return Principal(user_id="user-1", tenant_id=tenant_id, role=role, scopes=frozenset(scopes))


def forbidden_code(p: Principal, action: Action, tenant_id: str | None = TENANT) -> str | None:
    try:
        authorize(p, action, tenant_id=tenant_id)
    except Forbidden as error:
        return error.code
    return None


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize(
    "action", [Action.READ_SUBSCRIPTION, Action.READ_PLANS, Action.VERIFY_SESSION]
)
def test_any_member_may_read(role: Role, action: Action) -> None:
    assert forbidden_code(principal(role), action) is None


def test_only_the_owner_manages_billing() -> None:
    assert forbidden_code(principal(Role.OWNER), Action.MANAGE_BILLING) is None
    assert forbidden_code(principal(Role.ADMIN), Action.MANAGE_BILLING) == "owner_only"
    assert forbidden_code(principal(Role.MEMBER), Action.MANAGE_BILLING) == "owner_only"


def test_admin_scope_is_not_owner_rights() -> None:
    operator = principal(Role.MEMBER, ADMIN_SCOPE)
    assert forbidden_code(operator, Action.MANAGE_BILLING) == "owner_only"


@pytest.mark.parametrize("action", sorted(OPERATOR_ACTIONS))
def test_operating_needs_the_admin_scope_whatever_the_tenant(action: Action) -> None:
    assert forbidden_code(principal(Role.OWNER), action) == "missing_scope"
    operator = principal(Role.MEMBER, ADMIN_SCOPE, tenant_id="ops")
    assert forbidden_code(operator, action, tenant_id=TENANT) is None
    assert forbidden_code(operator, action, tenant_id=None) is None


@pytest.mark.parametrize("action", [a for a in Action if a not in OPERATOR_ACTIONS])
def test_nobody_acts_on_another_tenant(action: Action) -> None:
    owner_elsewhere = principal(Role.OWNER, ADMIN_SCOPE, tenant_id="tenant-b")
    assert forbidden_code(owner_elsewhere, action) == "other_tenant"


def test_without_a_tenant_only_role_matters() -> None:
    assert forbidden_code(principal(Role.OWNER), Action.MANAGE_BILLING, tenant_id=None) is None


@settings(max_examples=50, deadline=None)
@given(
    role=st.sampled_from(Role),
    action=st.sampled_from(Action),
    scopes=st.frozensets(st.sampled_from([ADMIN_SCOPE, "billing:read", "other"])),
    own_tenant=st.booleans(),
)
def test_policy_table(role: Role, action: Action, scopes: frozenset[str], own_tenant: bool) -> None:
    p = Principal(user_id="u", tenant_id=TENANT, role=role, scopes=scopes)
    code = forbidden_code(p, action, TENANT if own_tenant else "elsewhere")
    if action in OPERATOR_ACTIONS:
        expected = None if ADMIN_SCOPE in scopes else "missing_scope"
    elif action is Action.READ_ENTITLEMENTS and "billing:read" in scopes:
        expected = None  # a service token reads any tenant's entitlements
    elif not own_tenant:
        expected = "other_tenant"
    elif action in OWNER_ACTIONS and role is not Role.OWNER:
        expected = "owner_only"
    else:
        expected = None
    assert code == expected
