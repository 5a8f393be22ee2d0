//! The vocabulary both halves of the app share. Every type here parses its input once, at the
//! edge, so code that holds one never re-checks it. Nothing here may depend on a server-only
//! crate: this crate is compiled to wasm too.

mod api_token;
mod audit;
mod catalog;
mod contact;
mod email;
mod ids;
mod money;
mod name;
mod order;
mod password;
mod plan;
mod role;
mod search;
mod slug;
mod tenant;

pub use api_token::{ApiTokenRole, ApiTokenRoleError};
pub use audit::AUDIT_ACTIONS;
pub use catalog::{
    parse_quantity, parse_stock, CountError, Description, DescriptionError, Sku, SkuError,
    DESCRIPTION_MAX,
};
pub use contact::{
    Address, AddressError, Phone, PhoneError, ADDRESS_LINES, ADDRESS_MAX, PHONE_MAX,
};
pub use email::{Email, EmailError};
pub use ids::{
    AdminId, ApiTokenId, CustomerId, ExportId, ImportId, InvitationId, OrderId, ProductId,
    TenantId, UserId,
};
pub use money::{Currency, Money, MoneyError};
pub use name::{
    AuditReason, AuditReasonError, CustomerName, CustomerNameError, PersonName, PersonNameError,
    ProductName, ProductNameError, TokenName, TokenNameError, WorkspaceName, WorkspaceNameError,
};
pub use order::{OrderStatus, OrderStatusParseError};
pub use password::{Password, PasswordError, MIN_PASSWORD_CHARS};
pub use plan::{parse_code, Feature, LimitKind, LimitOverride, LimitOverrideError};
pub use role::{Role, RoleParseError};
pub use search::{SearchError, SearchText, SEARCH_MAX};
pub use slug::{Slug, SlugError};
pub use tenant::{PlanCode, TenantStatus};
